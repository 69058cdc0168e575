package dsr_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/dsr"
)

// TestPublicIntakeAbuse covers what a stranger can try on the public
// intake: guessing codes, using old ones, telling registered identities
// from unknown ones, and flooding. Codes last 15 minutes and allow 5
// attempts; an identity may be claimed 5 times an hour, an address may
// submit 30 times an hour (the dsr.Options defaults).
func TestPublicIntakeAbuse(t *testing.T) {
	start := chinaTime("2026-06-01 10:00")
	const (
		email   = "gao.yan@example.com"
		phone   = "+8613912345678"
		unknown = "nobody.here@example.com"
	)
	setup := func(t *testing.T) *env {
		e := newEnv(t, starterManifest, start)
		e.subject("st-8001", email, phone, nil)
		return e
	}
	verify := func(e *env, id, code string) response {
		return e.do("POST", "/v1/public/requests/"+id+"/verify", "", fmt.Sprintf(`{"code":%q}`, code))
	}
	// wrong returns n six-digit codes that differ from code.
	wrong := func(code string, n int) []string {
		var out []string
		for i := 0; len(out) < n; i++ {
			if c := fmt.Sprintf("%06d", 111111*(i%9+1)); c != code {
				out = append(out, c)
			}
		}
		return out
	}
	state := func(e *env, id string) string {
		var v dsr.View
		e.must(200, "GET", "/v1/public/requests/"+id, "", "", &v)
		return v.State
	}

	t.Run("wrong code, then the right one", func(t *testing.T) {
		e := setup(t)
		id := e.submitPublic("access", "email", email, nil)
		code := e.code(id)
		res := verify(e, id, wrong(code, 1)[0])
		if res.Code != 422 || errorCode(res.Body) != "invalid_code" {
			t.Errorf("wrong code = %d %s, want 422 invalid_code", res.Code, res.Body)
		}
		if v := e.verify(id, code); v.State != dsr.StateVerified {
			t.Errorf("right code after a wrong one: state %s", v.State)
		}
		e.noPI(email, phone)
	})

	t.Run("code of another request", func(t *testing.T) {
		e := setup(t)
		a := e.submitPublic("access", "email", email, nil)
		codeA := e.code(a)
		b := e.submitPublic("deletion", "email", email, nil)
		codeB := e.code(b)
		if codeA == codeB {
			t.Skip("both requests drew the same code")
		}
		if res := verify(e, b, codeA); res.Code != 422 || errorCode(res.Body) != "invalid_code" {
			t.Errorf("A's code on B = %d %s, want 422 invalid_code", res.Code, res.Body)
		}
		e.noPI(email, phone)
	})

	t.Run("expired code", func(t *testing.T) {
		e := setup(t)
		id := e.submitPublic("access", "phone", phone, nil)
		code := e.code(id)
		e.clock.Advance(16 * time.Minute)
		if res := verify(e, id, code); res.Code != 422 || errorCode(res.Body) != "invalid_code" {
			t.Errorf("code after 16 minutes = %d %s, want 422 invalid_code", res.Code, res.Body)
		}
		if got := state(e, id); got != dsr.StateAwaitingVerification {
			t.Errorf("state = %s", got)
		}
		e.noPI(email, phone, "13912345678")
	})

	t.Run("brute force", func(t *testing.T) {
		e := setup(t)
		id := e.submitPublic("access", "email", email, nil)
		code := e.code(id)
		for i, c := range wrong(code, 5) {
			if res := verify(e, id, c); res.Code != 422 || errorCode(res.Body) != "invalid_code" {
				t.Fatalf("wrong code %d = %d %s, want 422 invalid_code", i+1, res.Code, res.Body)
			}
		}
		// The sixth attempt is refused even with the right code, and the
		// request is cancelled.
		if res := verify(e, id, code); res.Code != 429 || errorCode(res.Body) != "too_many_attempts" {
			t.Errorf("sixth attempt = %d %s, want 429 too_many_attempts", res.Code, res.Body)
		}
		if got := state(e, id); got != dsr.StateCancelled {
			t.Errorf("state after too many attempts = %s, want cancelled", got)
		}
		if res := verify(e, id, code); res.Code != 409 || errorCode(res.Body) != "not_awaiting_verification" {
			t.Errorf("attempt on the cancelled request = %d %s, want 409 not_awaiting_verification", res.Code, res.Body)
		}
		e.noPI(email, phone)
	})

	t.Run("a code sent before the person was erased", func(t *testing.T) {
		e := setup(t)
		id := e.submitPublic("access", "email", email, nil)
		code := e.code(id)
		v := e.submitOperator(map[string]any{"type": "deletion", "subject_id": "st-8001"})
		e.act(v.ID, "approve", nil)
		if done := e.act(v.ID, "complete", map[string]any{}); done.State != dsr.StateCompleted {
			t.Fatalf("deletion = %s", done.State)
		}
		// The code row is still there; the identity it names is gone, and
		// the code opens nothing.
		if _, err := e.st.OTP(e.ctx, id); err != nil {
			t.Fatalf("the code row: %v", err)
		}
		if res := verify(e, id, code); res.Code != 422 || errorCode(res.Body) != "invalid_code" {
			t.Errorf("the code after the erasure = %d %s, want 422 invalid_code", res.Code, res.Body)
		}
		e.noPI(email, phone)
	})

	t.Run("enumeration", func(t *testing.T) {
		e := setup(t)
		submit := func(value string) (string, response) {
			res := e.do("POST", "/v1/public/requests", "", fmt.Sprintf(`{"type":"access","language":"en","identity":{"kind":"email","value":%q}}`, value))
			var acc dsr.Accepted
			if err := json.Unmarshal(res.Body, &acc); err != nil || acc.ID == "" {
				t.Fatalf("submit = %d %s", res.Code, res.Body)
			}
			return acc.ID, res
		}
		knownID, known := submit(email)
		unknownID, unknownRes := submit(unknown)
		same := func(what string, k, u response) {
			t.Helper()
			kb := bytes.ReplaceAll(bytes.ReplaceAll(k.Body, []byte(knownID), []byte("ID")), []byte(e.tokens[knownID]), []byte("TOKEN"))
			ub := bytes.ReplaceAll(bytes.ReplaceAll(u.Body, []byte(unknownID), []byte("ID")), []byte(e.tokens[unknownID]), []byte("TOKEN"))
			if k.Code != u.Code || !bytes.Equal(kb, ub) {
				t.Errorf("%s differs:\nknown   %d %s\nunknown %d %s", what, k.Code, kb, u.Code, ub)
			}
		}
		same("intake", known, unknownRes)
		// Both are recorded alike, with the identity claimed; only the
		// known one is sent a code.
		for _, id := range []string{knownID, unknownID} {
			otp, err := e.st.OTP(e.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(otp.IdentityHash) == 0 {
				t.Errorf("the code row of %s names no identity", id)
			}
		}
		if diff := cmp.Diff([]string{"otp"}, e.templates(knownID)); diff != "" {
			t.Errorf("messages for the known identity (-want +got):\n%s", diff)
		}
		if got := e.templates(unknownID); len(got) != 0 {
			t.Errorf("messages for the unknown identity: %v, want none", got)
		}
		same("status", e.do("GET", "/v1/public/requests/"+knownID, "", ""), e.do("GET", "/v1/public/requests/"+unknownID, "", ""))
		code := e.code(knownID)
		c := wrong(code, 1)[0]
		same("wrong code", verify(e, knownID, c), verify(e, unknownID, c))
		// The code sent for the known identity opens nothing else.
		if res := verify(e, unknownID, code); res.Code != 422 || errorCode(res.Body) != "invalid_code" {
			t.Errorf("a real code on the unknown identity's request = %d %s", res.Code, res.Body)
		}
		e.noPI(email, phone, unknown)
	})

	t.Run("rate limits", func(t *testing.T) {
		tests := []struct {
			name   string
			values []string // claimed identities, submitted in order from one address
			last   int      // status of the last one
		}{
			{"known identity, sixth in an hour", []string{email, email, email, email, email, email}, 429},
			{"unknown identity, sixth in an hour", []string{unknown, unknown, unknown, unknown, unknown, unknown}, 429},
			// The limit counts the normalised identity.
			{"same identity spelt differently", []string{email, email, email, email, email, "  Gao.Yan@EXAMPLE.com "}, 429},
			{"five, then another identity", []string{email, email, email, email, email, unknown}, 202},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := setup(t)
				for i, v := range tt.values {
					e.clock.Advance(5 * time.Minute)
					res := e.do("POST", "/v1/public/requests", "", fmt.Sprintf(`{"type":"access","language":"en","identity":{"kind":"email","value":%q}}`, v))
					want, code := 202, ""
					if i == len(tt.values)-1 && tt.last == 429 {
						want, code = 429, "rate_limited"
					}
					if res.Code != want || errorCode(res.Body) != code {
						t.Fatalf("request %d = %d %s, want %d %q", i+1, res.Code, res.Body, want, code)
					}
				}
				// The first was at +5 minutes; at +66 it is more than an hour
				// old and no longer counts.
				e.clock.Advance(36 * time.Minute)
				last := tt.values[len(tt.values)-1]
				if res := e.do("POST", "/v1/public/requests", "", fmt.Sprintf(`{"type":"access","language":"en","identity":{"kind":"email","value":%q}}`, last)); res.Code != 202 {
					t.Errorf("an hour later = %d %s, want 202", res.Code, res.Body)
				}
				e.noPI(email, phone, unknown)
			})
		}

		t.Run("one address, many identities", func(t *testing.T) {
			e := setup(t)
			for i := 1; i <= 31; i++ {
				body := fmt.Sprintf(`{"type":"access","language":"en","identity":{"kind":"email","value":"guess%d@example.com"}}`, i)
				// A Host of its own each time must not renew the limit.
				res := e.doFromHost("198.51.100.7:5000", fmt.Sprintf("custos-%d.example", i), "POST", "/v1/public/requests", "", body)
				want := 202
				if i == 31 {
					want = 429
				}
				if res.Code != want {
					t.Fatalf("request %d from one address = %d %s, want %d", i, res.Code, res.Body, want)
				}
			}
			body := `{"type":"access","language":"en","identity":{"kind":"email","value":"guess99@example.com"}}`
			if res := e.doFrom("198.51.100.8:5000", "POST", "/v1/public/requests", "", body); res.Code != 202 {
				t.Errorf("from another address = %d %s, want 202", res.Code, res.Body)
			}
		})
	})
}
