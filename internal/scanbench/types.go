package scanbench

import (
	"strings"

	"github.com/custos-privacy/custos/internal/detect"
)

// Types lists the types the tables report, in their order.
var Types = []string{TypePhone, TypeIDCard, TypeCard, TypeEmail, TypeIP, TypeName, TypeAddress, TypeSSN, TypePlate}

// categoryType maps the taxonomy category of a detect.Span to a type.
// Spans of other categories (MAC, IMEI, birth date, …) keep their category
// as their type: on the corpus they count against precision where they land
// on nothing planted, and the accuracy tables do not list them.
var categoryType = map[string]string{
	"basic.phone":              TypePhone,
	"identity.id_card":         TypeIDCard,
	"financial.bank_account":   TypeCard,
	"basic.email":              TypeEmail,
	"account.ip_address":       TypeIP,
	"basic.name":               TypeName,
	"basic.address":            TypeAddress,
	"identity.social_security": TypeSSN,
}

// SpanType is the type a Custos span counts as. The taxonomy has no
// category of its own for licence plates, so the detector's name decides.
func SpanType(s detect.Span) string {
	if strings.Contains(s.Detector, "plate") {
		return TypePlate
	}
	if t, ok := categoryType[s.Category]; ok {
		return t
	}
	return s.Category
}

// PeerType maps a peer's finding type (EMAIL_ADDRESS, PHONE_UK,
// TEXAS_LICENSE_PLATE, …) to a type, or "" where it names something the
// tables do not count (zip codes, bare digits, tracking numbers, …).
func PeerType(t string) string {
	t = strings.ToUpper(t)
	switch {
	case t == "EMAIL" || t == "EMAIL_ADDRESS":
		return TypeEmail
	case strings.HasPrefix(t, "PHONE"):
		return TypePhone
	case t == "CREDIT_CARD" || t == "CREDIT_CARD_NUMBER" || t == "IBAN" || t == "UK_BANK_ACCOUNT_IBAN":
		return TypeCard
	case t == "IPV4" || t == "IPV6" || t == "IP_ADDRESS":
		return TypeIP
	case t == "SSN" || t == "US_SOCIAL_SECURITY_NUMBER":
		return TypeSSN
	case t == "NAME" || t == "PERSON" || t == "PERSON_NAME":
		return TypeName
	case t == "ADDRESS_STREET" || t == "ADDRESS_PO_BOX" || t == "STREET_ADDRESS":
		return TypeAddress
	case strings.HasSuffix(t, "LICENSE_PLATE"):
		return TypePlate
	case strings.Contains(t, "CHINA") && strings.Contains(t, "ID"), t == "RESIDENT_ID":
		return TypeIDCard
	}
	return ""
}

// labelType maps a labelled corpus kind to a type; kinds not listed (dates,
// URLs, organisations, titles, API keys, …) are counted for no type.
var labelType = map[string]string{
	"zh_phone":       TypePhone,
	"PHONE_NUMBER":   TypePhone,
	"zh_id_card":     TypeIDCard,
	"zh_bank_card":   TypeCard,
	"credit_card":    TypeCard,
	"CREDIT_CARD":    TypeCard,
	"IBAN_CODE":      TypeCard,
	"email":          TypeEmail,
	"EMAIL_ADDRESS":  TypeEmail,
	"ip_address":     TypeIP,
	"IP_ADDRESS":     TypeIP,
	"zh_person_name": TypeName,
	"PERSON":         TypeName,
	"zh_address":     TypeAddress,
	"STREET_ADDRESS": TypeAddress,
	"us_ssn":         TypeSSN,
	"US_SSN":         TypeSSN,
	"plate":          TypePlate,
}

// neutralFor lists, per type, labelled kinds a finding of that type may
// land on without counting against it: a place name or zip code inside an
// address finding is part of the address.
var neutralFor = map[string]map[string]bool{
	TypeAddress: {"GPE": true, "ZIP_CODE": true},
}
