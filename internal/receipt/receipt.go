// Package receipt issues and verifies signed consent receipts: the record, handed to
// the person, that they granted or withdrew consent.
//
// A receipt is a JWS in compact serialisation (RFC 7515) signed with Ed25519 (alg
// "EdDSA", RFC 8037). Its payload follows the Kantara Initiative Consent Receipt
// Specification v1.1, so any JOSE library can check it against the public key the
// server publishes as a JWK Set, without Custos.
package receipt

// Version is the Kantara consent receipt version the payload follows.
const Version = "KI-CR-v1.1.0"

// Actions a receipt can record.
const (
	ActionGrant    = "grant"
	ActionWithdraw = "withdraw"
)

// Receipt is the payload of a consent receipt: the Kantara CR v1.1 fields, the JWT
// registered claims iat and jti, and Custos's own fields under "custos".
type Receipt struct {
	// Version is always Version.
	Version string `json:"version"`
	// Jurisdiction is the ISO 3166-1 alpha-2 country of the first controller.
	Jurisdiction string `json:"jurisdiction"`
	// ConsentTimestamp is when consent was granted or withdrawn, in seconds since the epoch.
	ConsentTimestamp int64 `json:"consentTimestamp"`
	// CollectionMethod is how the choice was made (banner, app_dialog, api, paper, guardian).
	CollectionMethod string `json:"collectionMethod"`
	// ConsentReceiptID identifies the receipt; it is derived from the ledger event.
	ConsentReceiptID string `json:"consentReceiptID"`
	// PublicKey optionally carries the controller's public key.
	PublicKey string `json:"publicKey,omitempty"`
	// Language is the language in which consent was obtained.
	Language string `json:"language"`
	// PIIPrincipalID is the application's opaque subject id, never an email or phone number.
	PIIPrincipalID string `json:"piiPrincipalId"`
	// PIIControllers are the organisations responsible for the processing.
	PIIControllers []Controller `json:"piiControllers"`
	// PolicyURL is where the privacy policy is published.
	PolicyURL string `json:"policyUrl"`
	// Services are the services and purposes the consent covers.
	Services []Service `json:"services"`
	// Sensitive reports whether any category covered is sensitive personal information.
	Sensitive bool `json:"sensitive"`
	// SPICat lists the sensitive category ids, when there are any.
	SPICat []string `json:"spiCat,omitempty"`

	// IssuedAt is the JWT "iat" claim, in seconds since the epoch.
	IssuedAt int64 `json:"iat"`
	// JTI is the JWT "jti" claim; it equals ConsentReceiptID.
	JTI string `json:"jti"`

	// Custos holds the fields that tie the receipt to the consent ledger.
	Custos Extension `json:"custos"`
}

// Controller is a PII controller as the Kantara receipt describes it.
type Controller struct {
	// PIIController is the controller's legal name.
	PIIController string `json:"piiController"`
	// OnBehalf is true when the organisation processes on behalf of another (a processor).
	OnBehalf bool `json:"onBehalf"`
	// Contact is the department or person to contact about the processing.
	Contact string `json:"contact"`
	// Address is the controller's postal address.
	Address Address `json:"address"`
	// Email is the published contact email address.
	Email string `json:"email"`
	// Phone is the published contact telephone number.
	Phone string `json:"phone"`
	// PIIControllerURL is the controller's website.
	PIIControllerURL string `json:"piiControllerUrl,omitempty"`
}

// Address is a postal address in the shape of schema.org PostalAddress, which the
// Kantara specification refers to; the manifest keeps an address as one line of text.
type Address struct {
	// StreetAddress is the whole address as the manifest writes it.
	StreetAddress string `json:"streetAddress,omitempty"`
	// AddressCountry is the ISO 3166-1 alpha-2 country code.
	AddressCountry string `json:"addressCountry,omitempty"`
}

// Service is a service and the purposes of it that the consent covers.
type Service struct {
	// Service is the service's name.
	Service string `json:"service"`
	// Purposes are the purposes covered within the service.
	Purposes []Purpose `json:"purposes"`
}

// Purpose is one purpose of processing within a service.
type Purpose struct {
	// Purpose is the purpose's name.
	Purpose string `json:"purpose"`
	// PurposeCategory holds the manifest's purpose id.
	PurposeCategory []string `json:"purposeCategory"`
	// ConsentType is "EXPLICIT" for a consent-based purpose, else the legal basis in capitals.
	ConsentType string `json:"consentType"`
	// PIICategory lists the category ids collected for the purpose, sorted.
	PIICategory []string `json:"piiCategory"`
	// PrimaryPurpose is true when the service cannot work without the collection.
	PrimaryPurpose bool `json:"primaryPurpose"`
	// Termination says when processing for the purpose ends.
	Termination string `json:"termination"`
	// ThirdPartyDisclosure is true when a recipient receives information for the purpose.
	ThirdPartyDisclosure bool `json:"thirdPartyDisclosure"`
	// ThirdPartyName names those recipients, joined with ", ".
	ThirdPartyName string `json:"thirdPartyName,omitempty"`
}

// Extension ties a receipt to the consent ledger and to the notice the person saw.
type Extension struct {
	// Event is the ledger event id.
	Event string `json:"event"`
	// Action is ActionGrant or ActionWithdraw.
	Action string `json:"action"`
	// PolicyVersion is the policy version the person was shown.
	PolicyVersion string `json:"policyVersion"`
	// NoticeHash is the hex SHA-256 of the notice text shown.
	NoticeHash string `json:"noticeHash"`
	// Separate is true when consent was asked for on its own (PIPL separate consent).
	Separate bool `json:"separate"`
	// Method is how the choice was made, as in CollectionMethod.
	Method string `json:"method"`
}
