package cli

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/bench"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/server"
)

// TestAuditVerifyFindsTampering records a grant and its withdrawal, takes
// a checkpoint, changes the database behind Custos's back and requires
// `custos audit verify --checkpoints` to fail, saying what was changed.
func TestAuditVerifyFindsTampering(t *testing.T) {
	tests := []struct {
		name string
		sql  []string
		want []string // lines of the output; {w} is the withdrawal's event id
	}{
		{name: "untouched", want: []string{"audit chain intact: ", "consent ledger intact: 2 events, head 2:", "consent state agrees with the ledger: 1 subject and purpose pairs", "checkpoints verified: 2 heads checked"}},
		{name: "withdrawal turned grant in the ledger", sql: []string{`UPDATE consent_events SET action = 'grant' WHERE id = '{w}'`},
			want: []string{"ledger_edited: ledger event 2 ({w}) does not match its hash", "state_differs: subject u-1's current state for analytics differs from the ledger's last event {w}", "consent ledger BROKEN"}},
		{name: "withdrawal turned grant in the state", sql: []string{`UPDATE consent_state SET action = 'grant', granted = 1`},
			want: []string{"state_differs: subject u-1's current state for analytics differs from the ledger's last event {w} (seq 2): action is grant, the ledger says withdraw", "consent state DIFFERS from the ledger: 1 subject and purpose pairs"}},
		{name: "withdrawal turned grant in both", sql: []string{`UPDATE consent_events SET action = 'grant' WHERE id = '{w}'`, `UPDATE consent_state SET action = 'grant', granted = 1`},
			want: []string{"ledger_edited: ledger event 2 ({w}) does not match its hash"}},
		{name: "withdrawal deleted", sql: []string{`DELETE FROM consent_events WHERE id = '{w}'`},
			want: []string{"ledger_head_mismatch: the recorded head of the ledger is ledger event 2 but the ledger ends at ledger event 1", "ledger_anchor_mismatch: ledger event 2, recorded in the checkpoint on line 1", "state_differs: "}},
		{name: "trail cut and head rewound", sql: []string{
			`DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)`,
			`UPDATE audit_head SET seq = seq - 1, hash = (SELECT hash FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log))`,
		}, want: []string{"anchor_mismatch: entry ", ", recorded in the checkpoint on line 1 (", "is missing: the trail ends at entry ", "audit chain BROKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, keys, with := install(t, "../../examples/starter/custos.yaml")
			withdrawal := consentAndWithdraw(t, db, keys)
			file := filepath.Join(filepath.Dir(db), "checkpoints.jsonl")
			out, errOut, code := runIn(t, "", with("audit", "checkpoint", "--checkpoints", file)...)
			if code != 0 || !strings.Contains(out, "checkpoint written to file "+file) {
				t.Fatalf("audit checkpoint: exit %d\n%s%s", code, out, errOut)
			}
			if tt.sql != nil {
				raw, err := sql.Open("sqlite", db)
				if err != nil {
					t.Fatal(err)
				}
				for _, trg := range []string{"audit_log_no_update", "audit_log_no_delete", "consent_events_no_update", "consent_events_no_delete"} {
					tt.sql = append([]string{`DROP TRIGGER ` + trg}, tt.sql...)
				}
				for _, q := range tt.sql {
					if _, err := raw.Exec(strings.ReplaceAll(q, "{w}", withdrawal)); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				raw.Close()
			}
			out, errOut, code = runIn(t, "", with("audit", "verify", "--checkpoints", file)...)
			want := 1 // broken
			if tt.sql == nil {
				want = 0
			}
			if code != want {
				t.Errorf("exit %d, want %d\n%s%s", code, want, out, errOut)
			}
			t.Log(out)
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "{w}", withdrawal); !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// consentAndWithdraw has subject u-1 grant analytics and withdraw it,
// through the consent service, and returns the withdrawal's event id.
func consentAndWithdraw(t *testing.T, db, keys string) string {
	t.Helper()
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
	defer st.Close()
	ctx := context.Background()
	admin := consent.Actor{ID: "cli:test", Role: "admin", Place: "test"}
	if _, err := svc.CreateSubject(ctx, admin, consent.SubjectInput{ID: "u-1"}); err != nil {
		t.Fatal(err)
	}
	in := consent.ConsentInput{Method: "api", Language: "en", NoticeHash: bench.NoticeHash}
	in.Grant = []string{"analytics"}
	if _, err := svc.Record(ctx, admin, "u-1", in); err != nil {
		t.Fatal(err)
	}
	in.Grant, in.Withdraw = nil, []string{"analytics"}
	evs, err := svc.Record(ctx, admin, "u-1", in)
	if err != nil || len(evs) != 1 {
		t.Fatalf("withdraw = %v, %v", evs, err)
	}
	return evs[0].ID
}

// TestAuditVerifySinceCheckpoint: from the checkpoint, verify reads what
// follows it (here nothing) and the heads, so a cut after it is found and
// a change before it is not, while the full verification finds both.
func TestAuditVerifySinceCheckpoint(t *testing.T) {
	tests := []struct {
		name       string
		sql        []string
		code, full int
		want       []string
	}{
		{name: "untouched", want: []string{"audit chain intact: 0 entries after entry ", "consent ledger intact: 0 events after event 2, head 2:", "consent state agrees with the ledger: 0 subject and purpose pairs touched since", "checkpoints verified: 2 heads checked"}},
		{name: "trail cut and head rewound", sql: []string{
			`DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)`,
			`UPDATE audit_head SET seq = seq - 1, hash = (SELECT hash FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log))`,
		}, code: 1, full: 1, want: []string{"head_mismatch: the recorded head of the trail is entry ", "audit chain BROKEN"}},
		{name: "withdrawal turned grant before the checkpoint", sql: []string{`UPDATE consent_events SET action = 'grant' WHERE seq = 2`, `UPDATE consent_state SET action = 'grant', granted = 1`},
			code: 0, full: 1, want: []string{"consent ledger intact: 0 events after event 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, keys, with := install(t, "../../examples/starter/custos.yaml")
			consentAndWithdraw(t, db, keys)
			file := filepath.Join(filepath.Dir(db), "checkpoints.jsonl")
			if out, errOut, code := runIn(t, "", with("audit", "checkpoint", "--checkpoints", file)...); code != 0 {
				t.Fatalf("audit checkpoint: exit %d\n%s%s", code, out, errOut)
			}
			if tt.sql != nil {
				raw, err := sql.Open("sqlite", db)
				if err != nil {
					t.Fatal(err)
				}
				for _, trg := range []string{"audit_log_no_update", "audit_log_no_delete", "consent_events_no_update", "consent_events_no_delete"} {
					tt.sql = append([]string{`DROP TRIGGER ` + trg}, tt.sql...)
				}
				for _, q := range tt.sql {
					if _, err := raw.Exec(q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				raw.Close()
			}
			out, errOut, code := runIn(t, "", with("audit", "verify", "--checkpoints", file, "--since-checkpoint")...)
			if code != tt.code {
				t.Errorf("since the checkpoint: exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if out, errOut, code := runIn(t, "", with("audit", "verify", "--checkpoints", file)...); code != tt.full {
				t.Errorf("full: exit %d, want %d\n%s%s", code, tt.full, out, errOut)
			}
		})
	}
	_, errOut, code := run(t, "audit", "verify", "--since-checkpoint", "--db", filepath.Join(t.TempDir(), "x.db"))
	if code == 0 || !strings.Contains(errOut, "--since-checkpoint starts at the latest checkpoint") {
		t.Errorf("--since-checkpoint without checkpoints: exit %d, %s", code, errOut)
	}
}

// TestAuditCut: custos audit cut says what it did, or why it did nothing,
// and refuses a period below the legal minimum or one without checkpoints
// to vouch for the cut. (The cut itself: server.TestAuditRetention, which
// runs the same server.CutTrail with a clock years ahead.)
func TestAuditCut(t *testing.T) {
	db, keys, with := install(t, "../../examples/starter/custos.yaml")
	consentAndWithdraw(t, db, keys)
	file := filepath.Join(filepath.Dir(db), "checkpoints.jsonl")
	if out, errOut, code := runIn(t, "", with("audit", "checkpoint", "--checkpoints", file)...); code != 0 {
		t.Fatalf("audit checkpoint: exit %d\n%s%s", code, out, errOut)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		out    string
		errHas []string
	}{
		{"forever", nil, 0, "the audit retention is forever: nothing is cut", nil},
		{"nothing old enough", []string{"--audit-retention", "3y", "--checkpoints", file}, 0, "nothing to cut: no signed checkpoint is older than 3 years", nil},
		{"below the legal minimum", []string{"--audit-retention", "2y", "--checkpoints", file}, 2, "", []string{"CUSTOS_AUDIT_RETENTION", "PIPL art. 56"}},
		{"without checkpoints", []string{"--audit-retention", "3y"}, 2, "", []string{"CUSTOS_AUDIT_RETENTION", "CUSTOS_CHECKPOINTS to a file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runIn(t, "", with(append([]string{"audit", "cut"}, tc.args...)...)...)
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Errorf("exit %d, want %d; output %q, want %q\n%s", code, tc.code, out, tc.out, errOut)
			}
			for _, w := range tc.errHas {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
	// Legal holds: a period's keeps the entries from its start, one on a
	// person the whole trail; a datastore's is not the trail's.
	t.Setenv("CUSTOS_OPERATOR_PASSWORD", "")
	pw := filepath.Join(filepath.Dir(db), "alice.pw")
	mustRun(t, "alice-password-123\n", with("operators", "create", "alice", "--role", "operator")...)
	if err := os.WriteFile(pw, []byte("alice-password-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cut := with("audit", "cut", "--audit-retention", "3y", "--checkpoints", file)
	for _, step := range []struct{ place, want string }{
		{"--datastore crm", "nothing to cut: no signed checkpoint is older than 3 years"},
		{"--from 2021-01-01", "nothing to cut: 1 legal hold(s) keep the entries from 2021-01-01 on, and no signed checkpoint is older"},
		{"--subject u-1", "not cut: 2 legal hold(s) in force keep the whole trail"},
	} {
		mustRun(t, "", with(append(append([]string{"holds", "place", "--reason", "r", "--authority", "a"}, strings.Fields(step.place)...), "--as", "alice", "--password-file", pw)...)...)
		if out, errOut, code := runIn(t, "", cut...); code != 0 || !strings.Contains(out, step.want) {
			t.Errorf("cut after a hold %s: exit %d, output %q, want %q\n%s", step.place, code, out, step.want, errOut)
		}
	}
	if out, errOut, code := runIn(t, "", with("audit", "verify", "--checkpoints", file)...); code != 0 {
		t.Errorf("verify after: exit %d\n%s%s", code, out, errOut)
	}
}
