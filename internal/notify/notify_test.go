package notify

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var deliveryIDPattern = regexp.MustCompile(`^dl_[0-9a-v]{26}$`)

func TestNewDelivery(t *testing.T) {
	sealer := newGCMSealer(t)
	tests := []struct {
		name     string
		channel  string
		to       string
		template string
		lang     string
		data     map[string]string
		want     Delivery // ID, Sealed and NextAt are checked apart
	}{
		{
			name: "email code", channel: ChannelEmail, to: testEmail, template: "otp", lang: LangEN,
			data: map[string]string{"code": testCode, "minutes": "10"},
			want: Delivery{
				Channel: ChannelEmail, Template: "otp", Lang: LangEN, Status: StatusPending,
			},
		},
		{
			name: "sms request status", channel: ChannelSMS, to: testPhone, template: "request_verified", lang: LangZH,
			data: map[string]string{"request": "req_1", "type": "access", "due_date": "2026-03-20"},
			want: Delivery{
				Channel: ChannelSMS, Template: "request_verified", Lang: LangZH, Status: StatusPending, Request: "req_1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now()
			got, err := NewDelivery(t.Context(), sealer, tt.channel, tt.to, tt.template, tt.lang, tt.data)
			after := time.Now()
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Delivery{}, "ID", "Sealed", "NextAt")); d != "" {
				t.Errorf("NewDelivery (-want +got):\n%s", d)
			}
			if !deliveryIDPattern.MatchString(got.ID) {
				t.Errorf("ID = %q, want dl_ and 26 base32hex digits", got.ID)
			}
			if got.NextAt.Before(before) || got.NextAt.After(after) {
				t.Errorf("NextAt = %v, want between %v and %v", got.NextAt, before, after)
			}
			for _, clear := range append([]string{tt.to, strings.TrimPrefix(tt.to, "+")}, slices.Collect(maps.Values(tt.data))...) {
				if bytes.Contains(got.Sealed, []byte(clear)) {
					t.Errorf("Sealed holds %q in the clear", clear)
				}
			}
			p, err := OpenPayload(t.Context(), sealer, got)
			if err != nil || p.To != tt.to || !maps.Equal(p.Data, tt.data) {
				t.Errorf("OpenPayload = %+v, %v; want the address and the data", p, err)
			}
			other := got
			other.ID = "dl_someoneelse"
			if _, err := OpenPayload(t.Context(), sealer, other); err == nil {
				t.Errorf("the payload opened as another delivery's")
			}
		})
	}
}

func TestNewDeliveryIDsAreUnique(t *testing.T) {
	sealer := newGCMSealer(t)
	seen := map[string]bool{}
	for range 200 {
		d, err := NewDelivery(t.Context(), sealer, ChannelEmail, testEmail, "otp", LangZH, map[string]string{"code": "1", "minutes": "5"})
		if err != nil {
			t.Fatal(err)
		}
		if seen[d.ID] {
			t.Fatalf("id %s issued twice", d.ID)
		}
		seen[d.ID] = true
	}
}

type leakySealer struct{}

func (leakySealer) Seal(_ context.Context, _ string, p, _ []byte) ([]byte, error) {
	return append([]byte("v1:"), p...), nil
}
func (leakySealer) Open(_ context.Context, _ string, c, _ []byte) ([]byte, error) { return c[3:], nil }

func TestNewDeliveryRejects(t *testing.T) {
	otp := map[string]string{"code": testCode, "minutes": "10"}
	tests := []struct {
		name     string
		sealer   Sealer // nil: a working one, unless noSealer
		noSealer bool
		channel  string
		to       string
		template string
		lang     string
		data     map[string]string
		invalid  bool // errors.Is(err, ErrInvalid)
	}{
		{name: "unknown channel", channel: "fax", to: testEmail, template: "otp", lang: LangEN, data: otp, invalid: true},
		{name: "header injection", channel: ChannelEmail, to: testEmail + "\r\nBcc: eve@example.net", template: "otp", lang: LangEN, data: otp, invalid: true},
		{name: "display name", channel: ChannelEmail, to: "Li Lei <" + testEmail + ">", template: "otp", lang: LangEN, data: otp, invalid: true},
		{name: "not an email", channel: ChannelEmail, to: "li.lei.example.com", template: "otp", lang: LangEN, data: otp, invalid: true},
		{name: "phone on email", channel: ChannelEmail, to: testPhone, template: "otp", lang: LangEN, data: otp, invalid: true},
		{name: "national phone number", channel: ChannelSMS, to: "13800138000", template: "otp", lang: LangEN, data: otp, invalid: true},
		{name: "phone with spaces", channel: ChannelSMS, to: "+86 138 0013 8000", template: "otp", lang: LangEN, data: otp, invalid: true},
		{name: "unknown template", channel: ChannelEmail, to: testEmail, template: "welcome", lang: LangEN, data: otp, invalid: true},
		{name: "unknown language", channel: ChannelEmail, to: testEmail, template: "otp", lang: "zh-TW", data: otp, invalid: true},
		{name: "missing value", channel: ChannelEmail, to: testEmail, template: "otp", lang: LangEN, data: map[string]string{"code": testCode}, invalid: true},
		{name: "sealer leaks", sealer: leakySealer{}, channel: ChannelEmail, to: testEmail, template: "otp", lang: LangEN, data: otp},
		{name: "no sealer", noSealer: true, channel: ChannelEmail, to: testEmail, template: "otp", lang: LangEN, data: otp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.sealer
			if s == nil && !tt.noSealer {
				s = newGCMSealer(t)
			}
			d, err := NewDelivery(t.Context(), s, tt.channel, tt.to, tt.template, tt.lang, tt.data)
			if err == nil {
				t.Fatalf("NewDelivery succeeded: %+v", d)
			}
			if errors.Is(err, ErrInvalid) != tt.invalid {
				t.Errorf("errors.Is(%v, ErrInvalid) = %v, want %v", err, !tt.invalid, tt.invalid)
			}
			if strings.Contains(strings.ToLower(err.Error()), "li.lei") || strings.Contains(err.Error(), "138") {
				t.Errorf("error quotes the address: %v", err)
			}
		})
	}
}
