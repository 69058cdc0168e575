package detect

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/custos-privacy/custos/internal/manifest"
)

func TestMain(m *testing.M) {
	// Pin the clock so "not in the future" cases do not drift with the calendar.
	now = func() time.Time { return time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC) }
	m.Run()
}

// detectors returns the detector names of fs, in order.
func detectors(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Detector)
	}
	return out
}

func TestValue(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // detectors, most confident first
	}{
		// PRC resident ID: checksum, province, birth date.
		{"id valid", "11010519491231002X", []string{DetPRCID}},
		{"id lower-case x", "11010519491231002x", []string{DetPRCID}},
		{"id valid digit check", "440305200108092573", []string{DetPRCID}},
		{"id bad checksum", "110105194912310021", nil},
		{"id unknown province", "990101199001011230", nil},
		{"id month 13", "110101199013011234", nil},
		{"id 30 February", "110101199002301236", nil},
		{"id before 1900", "110101189901011233", nil},
		{"id born in the future", "110101203001011236", nil},
		{"id 17 digits", "11010519491231002", nil},
		{"id masked", "110101********8531", nil},
		// An ID that also passes Luhn with a UnionPay prefix is an ID, not a card.
		{"id that passes luhn", "620102198001011554", []string{DetPRCID}},

		// PRC mobile.
		{"mobile", "13800138000", []string{DetPRCMobile}},
		{"mobile +86 dashed", "+86-186-1234-5678", []string{DetPRCMobile}},
		{"mobile 0086 spaced", "0086 138 0013 8000", []string{DetPRCMobile}},
		{"mobile 86 prefix", "8613800138000", []string{DetPRCMobile}},
		{"mobile bracketed country code", "(+86) 138 0013 8000", []string{DetPRCMobile}},
		{"mobile 12 prefix", "12800138000", nil},
		{"mobile 10 digits", "1380013800", nil},
		{"mobile 12 digits", "138001380001", nil},
		{"mobile plus without country code", "+13800138000", nil},
		{"mobile other country code", "+44 138 0013 8000", nil},
		{"mobile doubled separator", "138--0013-8000", nil},
		{"mobile trailing separator", "13800138000-", nil},
		{"mobile with letters", "1380013800a", nil},

		// Email.
		{"email", "li.na@example.com", []string{DetEmail}},
		{"email plus tag", "support+security@example.org", []string{DetEmail}},
		{"email subdomain", "sam.lee@mail.example.org", []string{DetEmail}},
		{"email two @", "a@b@example.com", nil},
		{"email no tld", "user@localhost", nil},
		{"email numeric tld", "user@10.0.0.1", nil},
		{"email one-letter tld", "user@example.c", nil},
		{"email space", "li na@example.com", nil},
		{"email double dot", "li..na@example.com", nil},
		{"email leading dot", ".lina@example.com", nil},
		{"email hyphen label", "lina@-example.com", nil},
		{"email empty label", "lina@example..com", nil},

		// Bank cards.
		{"visa", "4111111111111111", []string{DetBankCard}},
		{"visa spaced", "4111 1111 1111 1111", []string{DetBankCard}},
		{"mastercard", "5500000000000004", []string{DetBankCard}},
		{"mastercard 2-series", "2221000000000009", []string{DetBankCard}},
		{"amex", "378282246310005", []string{DetBankCard}},
		{"jcb", "3530111333300000", []string{DetBankCard}},
		{"unionpay 16", "6200000000000005", []string{DetBankCard}},
		{"unionpay 19", "6212345678901234569", []string{DetBankCard}},
		{"discover", "6011111111111117", []string{DetBankCard}},
		{"card bad luhn", "4111111111111112", nil},
		{"card unknown issuer", "9111111111111119", nil},
		{"mastercard wrong length", "550000000000000004", nil},
		{"card 12 digits", "411111111113", nil},
		{"card all zeros", "0000000000000000", nil},

		// IBAN.
		{"iban", "GB82WEST12345698765432", []string{DetIBAN}},
		{"iban lower case", "gb82west12345698765432", []string{DetIBAN}},
		{"iban grouped", "DE89 3704 0044 0532 0130 00", []string{DetIBAN}},
		{"iban bad check", "GB83WEST12345698765432", nil},
		{"iban no country", "1282WEST12345698765432", nil},

		// IP addresses.
		{"ipv4", "192.168.1.100", []string{DetIP}},
		{"ipv4 with port", "10.0.0.1:8080", []string{DetIP}},
		{"ipv6", "2001:db8::1", []string{DetIP}},
		{"ipv6 with port", "[2001:db8::1]:443", []string{DetIP}},
		{"version string", "1.2.3", nil},
		{"five parts", "1.2.3.4.5", nil},
		{"octet too large", "256.1.1.1", nil},
		{"leading zero octet", "010.1.1.1", nil},

		// MAC.
		{"mac colons", "00:1A:2B:3C:4D:5E", []string{DetMAC}},
		{"mac dashes", "00-1a-2b-3c-4d-5e", []string{DetMAC}},
		{"mac dotted", "001a.2b3c.4d5e", []string{DetMAC}},
		{"mac mixed separators", "00:1A-2B:3C:4D:5E", nil},
		{"mac not hex", "00:1A:2B:3C:4D:5G", nil},
		{"mac all zero", "00:00:00:00:00:00", nil},
		{"mac broadcast", "FF:FF:FF:FF:FF:FF", nil},

		// IMEI.
		{"imei", "490154203237518", []string{DetIMEI}},
		{"imei dashed", "35-209900-176148-1", []string{DetIMEI}},
		{"imei bad luhn", "490154203237519", nil},
		{"imei 14 digits", "49015420323751", nil},

		// Birth date: valid calendar days up to today, at low confidence.
		{"date dashed", "1990-03-07", []string{DetBirthDate}},
		{"date slashed", "1990/03/07", []string{DetBirthDate}},
		{"date compact", "19900307", []string{DetBirthDate}},
		{"date mixed separators", "1990-03/07", nil},
		{"date 31 April", "1990-04-31", nil},
		{"date in the future", "2030-01-01", nil},
		{"date before 1900", "1899-12-31", nil},
		{"date with time", "2000-04-16 11:34:35", nil},

		// Neither.
		{"empty", "", nil},
		{"blank", "   ", nil},
		{"word", "hello", nil},
		{"surrounding space is ignored", "  13800138000 ", []string{DetPRCMobile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, detectors(Value(tt.in))); diff != "" {
				t.Errorf("Value detectors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValueFinding(t *testing.T) {
	tests := []struct {
		in   string
		want []Finding
	}{
		{"11010519491231002X", []Finding{{Category: "identity.id_card", Detector: DetPRCID, Confidence: 0.99}}},
		{"13800138000", []Finding{{Category: "basic.phone", Detector: DetPRCMobile, Confidence: 0.9}}},
		{"li.na@example.com", []Finding{{Category: "basic.email", Detector: DetEmail, Confidence: 0.95}}},
		{"4111111111111111", []Finding{{Category: "financial.bank_account", Detector: DetBankCard, Confidence: 0.9}}},
		{"203.0.113.9", []Finding{{Category: "account.ip_address", Detector: DetIP, Confidence: 0.9}}},
		// A dotted quad of single digits reads like a version number.
		{"1.0.2.3", []Finding{{Category: "account.ip_address", Detector: DetIP, Confidence: 0.5}}},
		{"00:1A:2B:3C:4D:5E", []Finding{{Category: "device.mac", Detector: DetMAC, Confidence: 0.95}}},
		{"490154203237518", []Finding{{Category: "device.imei", Detector: DetIMEI, Confidence: 0.85}}},
		{"1990-03-07", []Finding{{Category: "basic.birth_date", Detector: DetBirthDate, Confidence: 0.3}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Value(tt.in)); diff != "" {
				t.Errorf("Value (-want +got):\n%s", diff)
			}
		})
	}
}

// categories returns the categories of fs, in order.
func categories(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Category)
	}
	return out
}

func TestColumn(t *testing.T) {
	tests := []struct {
		name string
		want []string // categories, most confident first
	}{
		// Phones.
		{"手机号", []string{"basic.phone"}},
		{"手机", []string{"basic.phone"}},
		{"联系电话", []string{"basic.phone"}},
		{"mobile", []string{"basic.phone"}},
		{"phone", []string{"basic.phone"}},
		{"tel", []string{"basic.phone"}},
		{"phone_no", []string{"basic.phone"}},
		{"phoneNumber", []string{"basic.phone"}},
		{"PHONENUMBER", []string{"basic.phone"}},
		{"cellphone", []string{"basic.phone"}},
		{"contact_phone2", []string{"basic.phone"}},
		{"is_phone_verified", nil},
		{"phone_country_code", nil},
		{"mobile_app", nil},
		{"手机型号", []string{"device.model"}},

		// Identity documents.
		{"身份证", []string{"identity.id_card"}},
		{"身份证号", []string{"identity.id_card"}},
		{"id_card", []string{"identity.id_card"}},
		{"idcard", []string{"identity.id_card"}},
		{"idCardNo", []string{"identity.id_card"}},
		{"id_number", []string{"identity.id_card"}},
		{"sfzh", []string{"identity.id_card"}},
		{"ssn", []string{"identity.social_security"}},
		{"passport_no", []string{"identity.passport"}},
		{"id_type", nil},

		// Email.
		{"邮箱", []string{"basic.email"}},
		{"电子邮件", []string{"basic.email"}},
		{"email", []string{"basic.email"}},
		{"e_mail", []string{"basic.email"}},
		{"emailAddress", []string{"basic.email"}},
		{"email_verified_at", nil},
		{"mail_server", nil},

		// Bank cards.
		{"银行卡", []string{"financial.bank_account"}},
		{"银行卡号", []string{"financial.bank_account"}},
		{"bank_card", []string{"financial.bank_account"}},
		{"card_no", []string{"financial.bank_account"}},
		{"bankAccountNumber", []string{"financial.bank_account"}},
		{"card_type", nil},

		// Names.
		{"姓名", []string{"basic.name"}},
		{"name", []string{"basic.name"}},
		{"first_name", []string{"basic.name"}},
		{"lastName", []string{"basic.name"}},
		{"real_name", []string{"basic.name"}},
		{"customer_name", []string{"basic.name"}},
		{"file_name", nil},
		{"filename", nil},
		{"table_name", nil},
		{"product_name", nil},
		{"username", []string{"account.id"}},
		{"user_name", []string{"account.id"}},
		{"用户名", []string{"account.id"}},
		{"nickname", []string{"basic.nickname"}},
		{"昵称", []string{"basic.nickname"}},

		// Addresses and regions.
		{"地址", []string{"basic.address"}},
		{"收货地址", []string{"basic.address"}},
		{"address", []string{"basic.address"}},
		{"home_addr", []string{"basic.address"}},
		{"shippingAddress", []string{"basic.address"}},
		{"server_address", nil},
		{"address_id", nil},
		{"remote_addr", []string{"account.ip_address"}},
		{"bank_account_name", []string{"basic.name"}},
		{"服务器地址", nil},
		{"zip_code", []string{"basic.region"}},

		// Birth dates.
		{"生日", []string{"basic.birth_date"}},
		{"出生日期", []string{"basic.birth_date"}},
		{"birth", []string{"basic.birth_date"}},
		{"birthday", []string{"basic.birth_date"}},
		{"birth_date", []string{"basic.birth_date"}},
		{"dob", []string{"basic.birth_date"}},
		{"date_of_birth", []string{"basic.birth_date"}},
		{"birth_place", nil},
		{"出生地", nil},

		// Network and device identifiers.
		{"ip", []string{"account.ip_address"}},
		{"ip_address", []string{"account.ip_address"}},
		{"IPAddress", []string{"account.ip_address"}},
		{"clientIp", []string{"account.ip_address"}},
		{"last_login_ip", []string{"account.ip_address"}},
		{"IPv4", []string{"account.ip_address"}},
		{"IP地址", []string{"account.ip_address"}},
		{"server_ip", nil},
		{"zip", []string{"basic.region"}},
		{"description", nil},
		{"vip", nil},
		{"tooltip", nil},
		{"mac", []string{"device.mac"}},
		{"mac_address", []string{"device.mac"}},
		{"MAC地址", []string{"device.mac"}},
		{"machine", nil},
		{"hmac", nil},
		{"imei", []string{"device.imei"}},
		{"设备号", []string{"device.id"}},
		{"device_id", []string{"device.id"}},
		{"deviceId", []string{"device.id"}},
		{"android_id", []string{"device.android_id"}},
		{"idfa", []string{"device.idfa"}},

		// Qualifiers and several categories at once.
		{"users.email", []string{"basic.email"}},
		{"`public`.`t_user`.`mobile`", []string{"basic.phone"}},
		{"gender", []string{"basic.gender"}},
		{"性别", []string{"basic.gender"}},
		{"password_hash", []string{"account.credentials"}},
		{"latitude", []string{"location.precise"}},
		{"created_at", nil},
		{"user_id", nil},
		{"", nil},
		{"姓名_手机号", []string{"basic.name", "basic.phone"}}, // equal confidence: by id
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, categories(Column(tt.name))); diff != "" {
				t.Errorf("Column(%q) categories (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func TestColumnConfidence(t *testing.T) {
	tests := []struct {
		name string
		want []Finding
	}{
		{"name", []Finding{{Category: "basic.name", Detector: DetColumnName, Confidence: 0.6}}},
		{"first_name", []Finding{{Category: "basic.name", Detector: DetColumnName, Confidence: 0.95}}},
		{"card_no", []Finding{{Category: "financial.bank_account", Detector: DetColumnName, Confidence: 0.7}}},
		{"身份证号码", []Finding{{Category: "identity.id_card", Detector: DetColumnName, Confidence: 0.95}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Column(tt.name)); diff != "" {
				t.Errorf("Column (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"userPhoneNo", []string{"user", "phone", "number"}},
		{"IPAddress", []string{"ip", "address"}},
		{"device_IMEI", []string{"device", "imei"}},
		{"idcardno", []string{"idcard", "number"}},
		{"home_addr", []string{"home", "address"}},
		{"IPv6", []string{"ipv6"}},
		{"phone2", []string{"phone"}},
		{"description", []string{"description"}},
		{"zip", []string{"zip"}},
		{"手机号", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, splitWords(tt.in)); diff != "" {
				t.Errorf("splitWords (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSample(t *testing.T) {
	approx := cmpopts.EquateApprox(0, 1e-9)
	tests := []struct {
		name   string
		column string
		values []string
		want   []Summary
	}{
		{
			name:   "name and values agree",
			column: "mobile",
			values: []string{"13800138000", "13912345678", "", "  "},
			// value 1×0.9, name 0.85 at full agreement: 1-(0.1)(0.15)
			want: []Summary{{Category: "basic.phone", Confidence: 0.985, Matches: 2, Sampled: 2, Detector: DetPRCMobile}},
		},
		{
			name:   "values alone",
			column: "c7",
			values: []string{"li.na@example.com", "not an email", "zhaomin@mail.cn", "x"},
			want:   []Summary{{Category: "basic.email", Confidence: 0.5 * 0.95, Matches: 2, Sampled: 4, Detector: DetEmail}},
		},
		{
			name:   "name alone without values",
			column: "姓名",
			values: nil,
			want:   []Summary{{Category: "basic.name", Confidence: 0.95, Detector: DetColumnName}},
		},
		{
			name:   "values contradict a name a detector could confirm",
			column: "phone",
			values: []string{"n/a", "unknown"},
			want:   []Summary{{Category: "basic.phone", Confidence: 0.45, Sampled: 2, Detector: DetColumnName}},
		},
		{
			name:   "dates without a birth-date name are not birth dates",
			column: "created",
			values: []string{"2024-01-02", "2024-01-03"},
			want:   []Summary{},
		},
		{
			name:   "dates in a birth-date column",
			column: "dob",
			values: []string{"1990-03-07", "1985/12/01", "bad"},
			// value (2/3)×0.3 = 0.2, name 0.95×(0.5+0.5×2/3): 1-(0.8)(1-0.95×5/6)
			want: []Summary{{Category: "basic.birth_date", Confidence: 1 - 0.8*(1-0.95*5.0/6.0), Matches: 2, Sampled: 3, Detector: DetBirthDate}},
		},
		{
			name:   "two detectors for one category keep the stronger",
			column: "acct",
			values: []string{"4111111111111111", "GB82WEST12345698765432", "6200000000000005"},
			want:   []Summary{{Category: "financial.bank_account", Confidence: 0.9 * 2 / 3, Matches: 2, Sampled: 3, Detector: DetBankCard}},
		},
		{
			name:   "mixed column sorted by confidence",
			column: "contact",
			values: []string{"13800138000", "li.na@example.com", "lisi@example.org", "wangfang@example.com"},
			want: []Summary{
				{Category: "basic.email", Confidence: 0.75 * 0.95, Matches: 3, Sampled: 4, Detector: DetEmail},
				{Category: "basic.phone", Confidence: 0.25 * 0.9, Matches: 1, Sampled: 4, Detector: DetPRCMobile},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sample(tt.column, tt.values)
			if diff := cmp.Diff(tt.want, got, approx, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Sample (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCategoriesInTaxonomy checks every id the package can return against the
// manifest's built-in taxonomy, so a renamed category cannot go unnoticed.
func TestCategoriesInTaxonomy(t *testing.T) {
	known := map[string]bool{}
	for _, c := range manifest.BuiltinVocabulary().Categories {
		known[c.ID] = true
	}
	cats := Categories()
	if len(cats) < 30 {
		t.Fatalf("Categories() returned %d ids, want the full set of at least 30", len(cats))
	}
	for _, c := range cats {
		if !known[c] {
			t.Errorf("category %q is not in the built-in taxonomy", c)
		}
	}
	for det, c := range valueDetectors {
		if !slices.Contains(cats, c) {
			t.Errorf("detector %s category %q missing from Categories()", det, c)
		}
	}
}

func TestNameRulesWellFormed(t *testing.T) {
	for _, r := range nameRules {
		if (r.en == nil) == (r.zh == "") {
			t.Errorf("rule %+v must have exactly one of en and zh", r)
		}
		if r.category != "" && (r.conf <= 0 || r.conf > 1) {
			t.Errorf("rule %v%q confidence %v outside (0,1]", r.en, r.zh, r.conf)
		}
		for _, w := range r.en {
			if n, ok := normalise[w]; ok {
				t.Errorf("rule %v uses %q, which is normalised to %q and can never match", r.en, w, n)
			}
		}
	}
}
