package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/apikey"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/store"
)

// DemoDir is the directory, under the working directory, where `custos
// serve --demo` keeps everything it makes: the database, the secrets, the
// admin key and the messages it would have sent. Deleting it starts the
// demo over.
const DemoDir = ".custos-demo"

// DemoDB is the demo's database when none is given.
const DemoDB = DemoDir + "/custos.db"

// What the demo directory holds besides the database.
const (
	demoSecretsDir = "secrets"
	demoOutboxDir  = "outbox"
	demoKeyFile    = "admin.key"
	demoKeyName    = "demo admin"
)

// DemoOptions shape demo mode (config Demo).
type DemoOptions struct {
	// Dir holds the demo's secrets, admin key and outbox, and its database
	// when the configuration puts it there. Empty: the directory of the
	// SQLite database, or DemoDir on PostgreSQL.
	Dir string
	// History writes, on a fresh database, ten weeks of a small service's
	// life: both versions of the starter policy, consents given, withdrawn
	// and given again, and rights requests in every state (see
	// demo_history.go). Without it the demo has three subjects under the
	// first version, which is where tests that publish the next version
	// themselves start from.
	History bool
}

// WithDemo sets how demo mode lays out and fills the demo.
func WithDemo(d DemoOptions) Option { return func(o *options) { o.demo = d } }

// Demo is what demo mode set up.
type Demo struct {
	Dir        string
	SecretsDir string
	// AdminKey is the demo admin API key, the same on every start;
	// KeyFile keeps it between starts.
	AdminKey string
	KeyFile  string
	// Outbox is the file messages are written to instead of being sent,
	// one-time codes among them; empty when an SMTP relay sends email.
	Outbox string
	// Identities are the people to sign in to the privacy center as.
	Identities []DemoIdentity
}

// DemoIdentity is an email address or phone number a demo subject signs
// in with, and what there is to see as them.
type DemoIdentity struct {
	Value   string
	Subject string
	About   string
}

// prepareDemo lays out the demo directory and points the configuration at
// it: the secrets (made on the first start), and the outbox unless
// messages are sent elsewhere.
// demoCheckpointsFile is where the demo's signed checkpoints go.
const demoCheckpointsFile = "checkpoints.jsonl"

func prepareDemo(cfg *config.Config, o DemoOptions) (*Demo, error) {
	dir := o.Dir
	if dir == "" {
		dir = DemoDir
		if p := cfg.SQLitePath(); p != "" {
			dir = filepath.Dir(p)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo directory: %w", err)
	}
	d := &Demo{Dir: dir, SecretsDir: filepath.Join(dir, demoSecretsDir), KeyFile: filepath.Join(dir, demoKeyFile)}
	if err := demoSecrets(cfg, d.SecretsDir); err != nil {
		return nil, err
	}
	if cfg.NotifyDir == "" {
		cfg.NotifyDir = filepath.Join(dir, demoOutboxDir)
	}
	if cfg.SMTPAddr == "" {
		d.Outbox = filepath.Join(cfg.NotifyDir, notify.FileName)
	}
	// Signed checkpoints of the audit trail and the ledger, so that
	// `custos audit verify --checkpoints` has something to check against.
	if cfg.Checkpoints == "" {
		cfg.Checkpoints = filepath.Join(dir, demoCheckpointsFile)
	}
	return d, nil
}

// demoSecrets creates the secrets in dir on the first start and reads
// them, unless the configuration has an identity key of its own.
func demoSecrets(cfg *config.Config, dir string) error {
	if cfg.IdentityKey.IsSet() {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, secrets.IdentityKeyFile)); errors.Is(err, os.ErrNotExist) {
		if _, err := secrets.Init(dir, false); err != nil {
			return err
		}
	}
	read := func(name string) (config.Secret, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		return config.NewSecret(b, "file "+filepath.Join(dir, name)), err
	}
	var err1, err2, err3 error
	cfg.IdentityKey, err1 = read(secrets.IdentityKeyFile)
	cfg.DataKeyset, err2 = read(secrets.DataKeysetFile)
	cfg.ReceiptKey, err3 = read(secrets.ReceiptKeyFile)
	return errors.Join(err1, err2, err3)
}

// demoKey returns the demo admin key kept in file, making one when there
// is none or the kept one no longer works (a new database). Like every
// key, only its hash is in the database. Other demo admin keys, left by
// earlier starts, are revoked: a restart never adds a valid admin key.
func demoKey(ctx context.Context, keys *apikey.Service, a consent.Actor, file string) (string, error) {
	var keep apikey.Key
	secret := ""
	switch b, err := os.ReadFile(file); {
	case err == nil:
		s := strings.TrimSpace(string(b))
		k, err := keys.Authenticate(ctx, s)
		switch {
		case err == nil && k.Role == apikey.RoleAdmin:
			secret, keep = s, k
		case err != nil && !errors.Is(err, apikey.ErrUnknown):
			return "", fmt.Errorf("demo admin key: %w", err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("demo admin key: %w", err)
	}
	if secret == "" {
		c, err := keys.Create(ctx, a, demoKeyName, apikey.RoleAdmin)
		if err != nil {
			return "", fmt.Errorf("demo admin key: %w", err)
		}
		if err := os.WriteFile(file, []byte(c.Secret+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("demo admin key: %w", err)
		}
		secret, keep = c.Secret, c.Key
	}
	all, err := keys.List(ctx)
	if err != nil {
		return "", fmt.Errorf("demo admin key: %w", err)
	}
	for _, k := range all {
		if k.Name == demoKeyName && !k.Revoked() && k.ID != keep.ID {
			if _, err := keys.Revoke(ctx, a, k.ID); err != nil {
				return "", fmt.Errorf("revoke stale demo admin key %s: %w", k.ID, err)
			}
		}
	}
	return secret, nil
}

// demoNotice stands for the notice text a demo subject was shown.
func demoNotice() string {
	sum := sha256.Sum256([]byte("demo notice"))
	return hex.EncodeToString(sum[:])
}

// baseSubjects are the three subjects every demo has; tests rely on them.
var baseSubjects = []consent.SubjectInput{
	{ID: "demo-1001", Identities: []consent.IdentityInput{{Kind: "email", Value: "lin.wei@example.com", Keep: true}, {Kind: "phone", Value: "13800138000", Keep: true}}, BirthDate: "1990-04-12"},
	{ID: "demo-1002", Identities: []consent.IdentityInput{{Kind: "email", Value: "alex.chen@example.org", Keep: true}}, AgeBand: "adult"},
	{ID: "demo-1003", Identities: []consent.IdentityInput{{Kind: "phone", Value: "13900139000", Keep: true}}, BirthDate: "2015-09-01", GuardianID: "demo-1001"},
}

// baseIdentities are what there is to see as the base subjects.
var baseIdentities = []DemoIdentity{
	{"lin.wei@example.com", "demo-1001", "has consented to every purpose asked together; guardian of demo-1003"},
	{"alex.chen@example.org", "demo-1002", "has consented to one purpose"},
	{"13900139000", "demo-1003", "a minor (born 2015) with Lin Wei as guardian"},
}

// seedSubjects adds the three base subjects with consents under the
// version in force, once: on later starts they exist already.
func seedSubjects(ctx context.Context, svc *consent.Service, a consent.Actor) error {
	_, m, pol, err := svc.Policy()
	if err != nil {
		return err
	}
	var consentPurposes []string
	for _, p := range m.Purposes {
		if r, ok := pol.Rule(p.ID); ok && r.Consent && !r.Separate {
			consentPurposes = append(consentPurposes, p.ID)
		}
	}
	for i, in := range baseSubjects {
		_, err := svc.CreateSubject(ctx, a, in)
		if fe, ok := fault.As(err); ok && fe.Code == "subject_conflict" {
			continue // seeded on an earlier start
		}
		if err != nil {
			return err
		}
		if len(consentPurposes) == 0 || i == 2 {
			continue
		}
		grant := consentPurposes
		if i == 1 {
			grant = consentPurposes[:1]
		}
		if _, err := svc.Record(ctx, a, in.ID, consent.ConsentInput{Grant: grant, Method: "banner", Language: "zh-CN", NoticeHash: demoNotice()}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// seedDemo fills the demo: its history on a fresh database, or the three
// base subjects without one; then it sets up the demo admin key.
func (s *Server) seedDemo(ctx context.Context, d *Demo, clock *demoClock, fresh bool, keys *apikey.Service, a consent.Actor) error {
	switch {
	case fresh:
		began := time.Now()
		if err := writeHistory(ctx, clock, s.svc, s.requests); err != nil {
			return fmt.Errorf("%w (delete %s to start the demo over)", err, d.Dir)
		}
		s.log.Info("demo history written", "took", time.Since(began).Round(time.Millisecond))
		d.Identities = demoIdentities
	case clock != nil:
		d.Identities = demoIdentities // written on an earlier start
	default:
		if err := seedSubjects(ctx, s.svc, a); err != nil {
			return err
		}
		d.Identities = baseIdentities
	}
	var err error
	if d.AdminKey, err = demoKey(ctx, keys, a, d.KeyFile); err != nil {
		return err
	}
	s.demo = d
	return nil
}

// WriteBanner prints what a newcomer needs to try the demo listening on
// addr (host:port): where to go, the admin key, whom to sign in as and
// where the one-time codes land.
func (d *Demo) WriteBanner(w io.Writer, addr string) error {
	base := "http://" + browsable(addr)
	admin := operator.Demo[0]
	var b strings.Builder
	fmt.Fprintf(&b, "\nCustos demo: Qingyun Notes, a fictional note-taking service\n\n")
	fmt.Fprintf(&b, "  privacy center   %s/privacy/\n", base)
	fmt.Fprintf(&b, "  consent banner   %s/demo/shop/\n", base)
	fmt.Fprintf(&b, "  admin console    %s/console/   (sign in as %s / %s)\n\n", base, admin.Username, admin.Password)
	fmt.Fprintf(&b, "  admin API key    export KEY=%s\n", d.AdminKey)
	fmt.Fprintf(&b, "                   (kept in %s: the same key on every start)\n\n", d.KeyFile)
	fmt.Fprintf(&b, "  Sign in to the privacy center with a one-time code, as:\n")
	width := 0
	for _, id := range d.Identities {
		width = max(width, len(id.Value))
	}
	for _, id := range d.Identities {
		fmt.Fprintf(&b, "    %-*s  %s: %s\n", width, id.Value, id.Subject, id.About)
	}
	if d.Outbox != "" {
		fmt.Fprintf(&b, "  Codes and other messages are not sent: they are written to\n    %s\n", d.Outbox)
	} else {
		fmt.Fprintf(&b, "  Codes go out by email through the SMTP relay.\n")
	}
	fmt.Fprintf(&b, "\n  Everything the demo keeps is in %s%c; delete it to start over.\n", filepath.Clean(d.Dir), filepath.Separator)
	_, err := io.WriteString(w, b.String())
	return err
}

// browsable turns a listening address into one a browser can open: a
// wildcard host becomes localhost.
func browsable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
