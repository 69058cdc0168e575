package scanbench

import (
	"slices"
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

// labelType is the table type a labelled corpus kind counts as: the
// detector evaluation's type of the label, whose names the table types
// share (an IBAN counts as a card here),
// or "" for kinds the tables do not count (dates, URLs, organisations, …).
func labelType(kind string) string {
	t := detect.EvalTypeOfLabel(kind)
	if t == "iban" {
		t = TypeCard
	}
	if !slices.Contains(Types, t) {
		return ""
	}
	return t
}
