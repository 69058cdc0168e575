package identity

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalize(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		kind, value string
		want        string
		reason      string // "" when the value is accepted
	}{
		// email
		{kind: "email", value: "alice@example.com", want: "alice@example.com"},
		{kind: "email", value: "  Alice.Smith@Example.COM\n", want: "alice.smith@example.com"},
		{kind: "email", value: "ÉLODIE@exemple.fr", want: "élodie@exemple.fr"},
		{kind: "email", value: "a+tag@mail.example.co.uk", want: "a+tag@mail.example.co.uk"},
		{kind: "email", value: long(64) + "@" + long(185) + ".com", want: long(64) + "@" + long(185) + ".com"},
		{kind: "email", value: long(64) + "@" + long(186) + ".com", reason: reasonTooLong},
		{kind: "email", value: "", reason: reasonEmpty},
		{kind: "email", value: "   ", reason: reasonEmpty},
		{kind: "email", value: "alice.example.com", reason: reasonAt},
		{kind: "email", value: "alice@@example.com", reason: reasonAt},
		{kind: "email", value: "a@b@example.com", reason: reasonAt},
		{kind: "email", value: "@example.com", reason: reasonLocal},
		{kind: "email", value: "alice@localhost", reason: reasonDomain},
		{kind: "email", value: "alice@example.", reason: reasonDomain},
		{kind: "email", value: "alice@.example.com", reason: reasonDomain},
		{kind: "email", value: "alice@example..com", reason: reasonDomain},
		{kind: "email", value: "alice smith@example.com", reason: reasonSpace},
		{kind: "email", value: "alice\u00a0@example.com", reason: reasonSpace},
		{kind: "email", value: "alice\x00@example.com", reason: reasonControl},
		{kind: "email", value: "alice\xff@example.com", reason: reasonEncoding},

		// phone
		{kind: "phone", value: "+86 138-0013-8000", want: "+8613800138000"},
		{kind: "phone", value: "13800138000", want: "+8613800138000"},
		{kind: "phone", value: "008613800138000", want: "+8613800138000"},
		{kind: "phone", value: "(+86) 138.0013.8000", want: "+8613800138000"},
		{kind: "phone", value: "+8613800138000", want: "+8613800138000"},
		{kind: "phone", value: "19912345678", want: "+8619912345678"},
		{kind: "phone", value: "+44 20 7946 0958", want: "+442079460958"},
		{kind: "phone", value: "001 (415) 555-2671", want: "+14155552671"},
		{kind: "phone", value: "+1234567", reason: reasonPhoneDigits},
		{kind: "phone", value: "+12345678", want: "+12345678"},
		{kind: "phone", value: "+123456789012345", want: "+123456789012345"},
		{kind: "phone", value: "+1234567890123456", reason: reasonPhoneDigits},
		{kind: "phone", value: "12800138000", reason: reasonPhonePrefix},   // second digit 2: not a PRC mobile
		{kind: "phone", value: "1380013800", reason: reasonPhonePrefix},    // 10 digits
		{kind: "phone", value: "020 7946 0958", reason: reasonPhonePrefix}, // national format
		{kind: "phone", value: "+0 86 1380013800", reason: reasonCountryCode},
		{kind: "phone", value: "0000861380013800", reason: reasonCountryCode},
		{kind: "phone", value: "+86 138 0013 800O", reason: reasonPhoneChars},
		{kind: "phone", value: "86+13800138000", reason: reasonPhoneChars},
		{kind: "phone", value: "++8613800138000", reason: reasonPhoneChars},
		{kind: "phone", value: "+86 138 0013 8000 ext 12", reason: reasonPhoneChars},
		{kind: "phone", value: "+８６13800138000", reason: reasonPhoneChars}, // full-width digits
		{kind: "phone", value: " - ", reason: reasonEmpty},

		// device_id
		{kind: "device_id", value: " 3F2504E0-4F89-11D3-9A0C-0305E82C3301 ", want: "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
		{kind: "device_id", value: "AA:BB:CC:dd:ee:ff", want: "aa:bb:cc:dd:ee:ff"},
		{kind: "device_id", value: "idfa_v2.x", want: "idfa_v2.x"},
		{kind: "device_id", value: long(128), want: long(128)},
		{kind: "device_id", value: long(129), reason: reasonTooLong},
		{kind: "device_id", value: "", reason: reasonEmpty},
		{kind: "device_id", value: "abc def", reason: reasonDeviceIDChar},
		{kind: "device_id", value: "abc/def", reason: reasonDeviceIDChar},
		{kind: "device_id", value: "\u212a", reason: reasonDeviceIDChar}, // Kelvin sign lower-cases to k
		{kind: "device_id", value: "défaut", reason: reasonDeviceIDChar},

		// user_id, username and other kinds keep case
		{kind: "user_id", value: "  U-1234 ", want: "U-1234"},
		{kind: "username", value: "Zhang San 张三", want: "Zhang San 张三"},
		{kind: "loyalty_card", value: "LC 0042", want: "LC 0042"},
		{kind: "user_id", value: long(128), want: long(128)},
		{kind: "user_id", value: long(129), reason: reasonTooLong},
		{kind: "username", value: strings.Repeat("张", 43), reason: reasonTooLong}, // 129 bytes
		{kind: "user_id", value: "\t\n", reason: reasonEmpty},
		{kind: "user_id", value: "a\x07b", reason: reasonControl},
		{kind: "username", value: "a\u0085b", reason: reasonControl},
		{kind: "x9", value: "\xc3", reason: reasonEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.value, func(t *testing.T) {
			got, err := Normalize(tt.kind, tt.value)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Normalize(%q, %q) failed: %v", tt.kind, tt.value, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Normalize(%q, %q) (-want +got):\n%s", tt.kind, tt.value, diff)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Normalize(%q, %q) = %q, %v; want an *Error", tt.kind, tt.value, got, err)
			}
			want := &Error{Code: CodeInvalidIdentity, Kind: tt.kind, Reason: tt.reason}
			if diff := cmp.Diff(want, e); diff != "" {
				t.Errorf("Normalize(%q, %q) error (-want +got):\n%s", tt.kind, tt.value, diff)
			}
			if got != "" {
				t.Errorf("Normalize(%q, %q) returned %q with its error", tt.kind, tt.value, got)
			}
		})
	}
}

func TestNormalizeKind(t *testing.T) {
	for _, kind := range []string{"", "Email", "e-mail", "1phone", "_x", "a" + strings.Repeat("b", 32), "email\x00"} {
		t.Run(kind, func(t *testing.T) {
			if ValidKind(kind) {
				t.Errorf("ValidKind(%q) = true", kind)
			}
			_, err := Normalize(kind, "alice@example.com")
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidKind {
				t.Fatalf("Normalize(%q, …) error = %v; want code %s", kind, err, CodeInvalidKind)
			}
			if kind != "" && strings.Contains(err.Error(), kind) {
				t.Errorf("error %q repeats the malformed kind", err)
			}
		})
	}
	for _, kind := range []string{"email", "phone", "device_id", "user_id", "username", "x", "a" + strings.Repeat("b", 31), "wechat_openid2"} {
		if !ValidKind(kind) {
			t.Errorf("ValidKind(%q) = false", kind)
		}
	}
}

// TestNormalizeErrorsHideValue feeds values that are plausible personal data
// and fail late in validation, after the value has been taken apart.
func TestNormalizeErrorsHideValue(t *testing.T) {
	tests := []struct{ kind, value, secret string }{
		{"email", "alice.secret@example", "alice.secret"},
		{"email", "alice.secret@exa mple.com", "alice.secret"},
		{"email", "ALICE.SECRET@@example.com", "alice.secret"},
		{"phone", "+86 138 0013 8000 9999", "13800138000"},
		{"phone", "1380013800x", "1380013800"},
		{"phone", "12800138000", "12800138000"},
		{"device_id", "serial#4711-secret", "4711-secret"},
		{"user_id", "zhang.san\x01", "zhang.san"},
		{"username", "zhang.san" + strings.Repeat("z", 200), "zhang.san"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			_, err := Normalize(tt.kind, tt.value)
			if err == nil {
				t.Fatalf("Normalize(%q, %q) accepted the value", tt.kind, tt.value)
			}
			msg := strings.ToLower(err.Error())
			if strings.Contains(msg, tt.secret) {
				t.Errorf("error %q contains %q", err, tt.secret)
			}
		})
	}
}
