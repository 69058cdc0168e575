package cli

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/server"
)

// TestPublishAnnouncesAndNotifies: a material change to the starter cannot
// take effect before the 7 days' notice it promises; announced further
// ahead, its notices go to the people with an address, once.
func TestPublishAnnouncesAndNotifies(t *testing.T) {
	db, keys, with := install(t, "../../examples/starter/custos.yaml")

	cfg, err := config.Load(nil, func(k string) string {
		return map[string]string{"CUSTOS_DB": db, "CUSTOS_SECRETS_DIR": keys}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	svcs, err := server.OpenServices(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	st, svc := svcs.Store, svcs.Consent
	admin := consent.Actor{ID: "cli:test", Role: "admin", Place: "test"}
	for _, in := range []consent.SubjectInput{
		{ID: "u-told", Language: "en", Identities: []consent.IdentityInput{{Kind: "email", Value: "li.na@example.com", Keep: true}}},
		{ID: "u-no-address"},
	} {
		if _, err := svc.CreateSubject(context.Background(), admin, in); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	soon := time.Now().AddDate(0, 0, 3).Format(time.RFC3339)
	_, errOut, code := runIn(t, "", with("policy", "publish", "../../examples/starter/custos-v2.yaml", "--effective-at", soon)...)
	if code == 0 || !strings.Contains(errOut, "notice_period_too_short") {
		t.Fatalf("publish 3 days ahead: exit %d, %s; want the notice period refused", code, errOut)
	}
	later := time.Now().AddDate(0, 0, 8).UTC().Truncate(time.Second)
	out, errOut, code := runIn(t, "", with("policy", "publish", "../../examples/starter/custos-v2.yaml", "--effective-at", later.Format(time.RFC3339))...)
	if code != 0 || !strings.Contains(out, "announced version 3.1: it takes effect at "+later.Format(time.RFC3339)) {
		t.Fatalf("publish 8 days ahead: exit %d\n%s%s", code, out, errOut)
	}
	if out, _, code := runIn(t, "", with("policy", "notify")...); code != 0 || out != "1 notices queued\n" {
		t.Errorf("notify: exit %d %q, want one notice", code, out)
	}
	if out, _, code := runIn(t, "", with("policy", "notify")...); code != 0 || out != "0 notices queued\n" {
		t.Errorf("notify again: exit %d %q, want none", code, out)
	}
	if _, _, code := runIn(t, "", with("policy", "publish", "../../examples/starter/custos-v2.yaml", "--effective-at", "tomorrow")...); code != 2 {
		t.Errorf("a malformed --effective-at: exit %d, want 2", code)
	}
}
