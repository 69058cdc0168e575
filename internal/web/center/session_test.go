package center

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSessionLifetime: a session ends 30 minutes after its last use and
// 8 hours after it began however often it is used; a forged one is empty.
func TestSessionLifetime(t *testing.T) {
	c := &center{opt: Options{Key: []byte("0123456789abcdef0123456789abcdef")}}
	cookie := func(s session, key []byte) *http.Cookie {
		raw, _ := json.Marshal(s)
		signer := &center{opt: Options{Key: key}}
		return &http.Cookie{Name: "custos_center", Value: base64.RawURLEncoding.EncodeToString(raw) + "." + base64.RawURLEncoding.EncodeToString(signer.sign(raw))}
	}
	now := time.Now().Unix()
	for _, tt := range []struct {
		name string
		s    session
		key  []byte
		ok   bool
	}{
		{"fresh", session{Subject: "demo-1001", Issued: now - 60, Expires: now + 600}, c.opt.Key, true},
		{"idle too long", session{Subject: "demo-1001", Issued: now - 3600, Expires: now - 1}, c.opt.Key, false},
		{"kept alive past the maximum", session{Subject: "demo-1001", Issued: now - int64(9*time.Hour/time.Second), Expires: now + 600}, c.opt.Key, false},
		{"signed with another key", session{Subject: "demo-1001", Issued: now - 60, Expires: now + 600}, []byte("another key, another key, 32 byt"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/privacy/", nil)
			r.AddCookie(cookie(tt.s, tt.key))
			got := c.session(r)
			if (got.Subject != "") != tt.ok {
				t.Errorf("session valid = %v, want %v", got.Subject != "", tt.ok)
			}
		})
	}

	// Saving never extends a session past its maximum age.
	rec := httptest.NewRecorder()
	c.save(rec, httptest.NewRequest("GET", "/privacy/", nil), session{Subject: "demo-1001", Issued: now - int64(SessionMaxAge/time.Second) + 60})
	ck := rec.Result().Cookies()
	if len(ck) != 1 || ck[0].MaxAge > 60 || ck[0].MaxAge <= 0 {
		t.Fatalf("cookie MaxAge %v, want at most the 60 s left", ck)
	}
}
