// Package operator holds the admin console's accounts: argon2id password
// hashes, sign-in with lockout, and server-side sessions whose tokens are
// kept only as SHA-256 hashes.
package operator

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
)

// Roles an operator may have: the API's roles for people (service is for
// applications and has no console).
const (
	RoleAdmin    = "admin"
	RoleOperator = "operator"
	RoleAuditor  = "auditor"
)

// Roles lists the console roles.
var Roles = []string{RoleAdmin, RoleOperator, RoleAuditor}

// Store is the persistence accounts need.
type Store interface {
	CreateOperator(ctx context.Context, o store.Operator, entries ...audit.Entry) error
	Operator(ctx context.Context, id string) (store.Operator, error)
	OperatorByUsername(ctx context.Context, username string) (store.Operator, error)
	Operators(ctx context.Context) ([]store.Operator, error)
	SetOperatorPassword(ctx context.Context, id, hash string, at time.Time, entries ...audit.Entry) error
	SetOperatorDisabled(ctx context.Context, id string, disabled bool, at time.Time, entries ...audit.Entry) error
	RecordSignInFailure(ctx context.Context, id string, max int, lockUntil time.Time, entries ...audit.Entry) (int, error)
	StartSession(ctx context.Context, se store.Session, entries ...audit.Entry) error
	SessionByHash(ctx context.Context, hash []byte) (store.Session, error)
	TouchSession(ctx context.Context, hash []byte, at time.Time) error
	EndSession(ctx context.Context, hash []byte, entries ...audit.Entry) error
	AppendAudit(ctx context.Context, entries ...audit.Entry) error
}

// Options tune sign-in and sessions; zero values take the defaults.
type Options struct {
	Params      Params
	MaxFailures int           // failed sign-ins before a lockout (5)
	Lockout     time.Duration // how long a lockout lasts (15 min)
	Idle        time.Duration // a session ends after this long unused (30 min)
	Absolute    time.Duration // and this long after sign-in at the latest (12 h)
	Now         func() time.Time
}

// Service manages accounts and sessions.
type Service struct {
	st    Store
	opt   Options
	dummy string // hash checked for unknown usernames, so they take as long
}

// Errors the console shows. ErrSignIn is the only answer to a failed
// sign-in, whatever the cause: it does not tell whether the user exists
// or is locked out.
var (
	ErrSignIn    = fault.New(fault.Unauthorized, "sign_in_failed", "wrong username or password, or the account is locked")
	ErrNoSession = fault.New(fault.Unauthorized, "no_session", "not signed in")
)

// New builds the service.
func New(st Store, opt Options) (*Service, error) {
	if opt.Params == (Params{}) {
		opt.Params = DefaultParams
	}
	if opt.MaxFailures <= 0 {
		opt.MaxFailures = 5
	}
	if opt.Lockout <= 0 {
		opt.Lockout = 15 * time.Minute
	}
	if opt.Idle <= 0 {
		opt.Idle = 30 * time.Minute
	}
	if opt.Absolute <= 0 {
		opt.Absolute = 12 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	b := make([]byte, 16)
	rand.Read(b)
	dummy, err := HashPassword(hex.EncodeToString(b), opt.Params)
	if err != nil {
		return nil, err
	}
	return &Service{st: st, opt: opt, dummy: dummy}, nil
}

// Options returns the options in force (defaults filled in).
func (s *Service) Options() Options { return s.opt }

var usernameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,62}$`)

// MinPassword is the shortest password accepted.
const MinPassword = 12

func checkPassword(pw string) error {
	if len([]rune(pw)) < MinPassword {
		return fault.New(fault.Invalid, "weak_password", "a password needs at least %d characters", MinPassword).At("password")
	}
	if len(pw) > 1024 {
		return fault.New(fault.Invalid, "weak_password", "a password has at most 1024 bytes").At("password")
	}
	return nil
}

func (s *Service) entry(a consent.Actor, action, object, outcome string, detail map[string]any) audit.Entry {
	d := "{}"
	if detail != nil {
		b, _ := json.Marshal(detail)
		d = string(b)
	}
	return audit.Entry{At: s.opt.Now(), Actor: a.ID, Role: a.Role, Place: a.Place, Action: action, Object: object, Purpose: "console", Outcome: outcome, Detail: d}
}

// Create makes an account. The creation is audited; the password is not.
func (s *Service) Create(ctx context.Context, a consent.Actor, username, displayName, role, password string) (store.Operator, error) {
	if !usernameRe.MatchString(username) {
		return store.Operator{}, fault.New(fault.Invalid, "invalid_username", "a username is 2–63 lower-case letters, digits, '.', '_' or '-'").At("username")
	}
	if !slices.Contains(Roles, role) {
		return store.Operator{}, fault.New(fault.Invalid, "invalid_role", "role must be admin, operator or auditor").At("role")
	}
	if err := checkPassword(password); err != nil {
		return store.Operator{}, err
	}
	if displayName == "" {
		displayName = username
	}
	hash, err := HashPassword(password, s.opt.Params)
	if err != nil {
		return store.Operator{}, err
	}
	now := s.opt.Now()
	o := store.Operator{ID: newID("op_"), Username: username, DisplayName: displayName, Role: role, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	err = s.st.CreateOperator(ctx, o, s.entry(a, "operator.create", "operator:"+o.ID, audit.OutcomeOK, map[string]any{"role": role}))
	if errors.Is(err, store.ErrConflict) {
		return store.Operator{}, fault.New(fault.Conflict, "operator_exists", "an account with this username exists").At("username")
	}
	return o, err
}

// List lists every account.
func (s *Service) List(ctx context.Context) ([]store.Operator, error) { return s.st.Operators(ctx) }

func (s *Service) byName(ctx context.Context, username string) (store.Operator, error) {
	o, err := s.st.OperatorByUsername(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return store.Operator{}, fault.New(fault.NotFound, "operator_not_found", "no such account")
	}
	return o, err
}

// SetDisabled disables an account (ending its sessions) or enables it again.
func (s *Service) SetDisabled(ctx context.Context, a consent.Actor, username string, disabled bool) error {
	o, err := s.byName(ctx, username)
	if err != nil {
		return err
	}
	action := "operator.enable"
	if disabled {
		action = "operator.disable"
	}
	return s.st.SetOperatorDisabled(ctx, o.ID, disabled, s.opt.Now(), s.entry(a, action, "operator:"+o.ID, audit.OutcomeOK, nil))
}

// ResetPassword sets a new password, lifts a lockout and ends the
// account's sessions.
func (s *Service) ResetPassword(ctx context.Context, a consent.Actor, username, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	o, err := s.byName(ctx, username)
	if err != nil {
		return err
	}
	hash, err := HashPassword(password, s.opt.Params)
	if err != nil {
		return err
	}
	return s.st.SetOperatorPassword(ctx, o.ID, hash, s.opt.Now(), s.entry(a, "operator.reset_password", "operator:"+o.ID, audit.OutcomeOK, nil))
}

// SignIn checks a username and password and starts a session, returning
// its token (shown to the browser only). Every failure is ErrSignIn and
// costs one password hash, known user or not. Failures, lockouts and
// sign-ins are audited (never the password; an unknown username is not
// recorded, as it may be a mistyped password).
func (s *Service) SignIn(ctx context.Context, place, username, password string) (string, store.Operator, error) {
	now := s.opt.Now()
	anon := consent.Actor{ID: "anonymous", Role: "none", Place: place}
	o, err := s.st.OperatorByUsername(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", store.Operator{}, err
	}
	if err != nil || len(password) > 1024 {
		CheckPassword(s.dummy, password)
		s.st.AppendAudit(ctx, s.entry(anon, "console.sign_in", "operator:unknown", audit.OutcomeDenied, map[string]any{"reason": "unknown_user"}))
		return "", store.Operator{}, ErrSignIn
	}
	actor := consent.Actor{ID: "operator:" + o.ID, Role: o.Role, Place: place}
	object := "operator:" + o.ID
	ok, _ := CheckPassword(o.PasswordHash, password)
	switch {
	case o.Disabled:
		s.st.AppendAudit(ctx, s.entry(actor, "console.sign_in", object, audit.OutcomeDenied, map[string]any{"reason": "disabled"}))
		return "", store.Operator{}, ErrSignIn
	case now.Before(o.LockedUntil):
		s.st.AppendAudit(ctx, s.entry(actor, "console.sign_in", object, audit.OutcomeDenied, map[string]any{"reason": "locked"}))
		return "", store.Operator{}, ErrSignIn
	case !ok:
		until := now.Add(s.opt.Lockout)
		fail := s.entry(actor, "console.sign_in", object, audit.OutcomeDenied, map[string]any{"reason": "wrong_password"})
		n, err := s.st.RecordSignInFailure(ctx, o.ID, s.opt.MaxFailures, until, fail)
		if err != nil {
			return "", store.Operator{}, err
		}
		if n >= s.opt.MaxFailures {
			s.st.AppendAudit(ctx, s.entry(actor, "console.lockout", object, audit.OutcomeOK, map[string]any{"failures": n, "until": until.UTC().Format(time.RFC3339)}))
		}
		return "", store.Operator{}, ErrSignIn
	}
	token, hash := newToken()
	se := store.Session{TokenHash: hash, OperatorID: o.ID, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(s.opt.Absolute)}
	if err := s.st.StartSession(ctx, se, s.entry(actor, "console.sign_in", object, audit.OutcomeOK, nil)); err != nil {
		return "", store.Operator{}, err
	}
	return token, o, nil
}

// Session returns the operator signed in with token, if the session is
// live and the account enabled. Activity is recorded at most once a minute.
func (s *Service) Session(ctx context.Context, token string) (store.Operator, error) {
	if token == "" || len(token) > 100 {
		return store.Operator{}, ErrNoSession
	}
	hash := HashToken(token)
	se, err := s.st.SessionByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return store.Operator{}, ErrNoSession
	}
	if err != nil {
		return store.Operator{}, err
	}
	now := s.opt.Now()
	if !now.Before(se.ExpiresAt) || now.Sub(se.LastSeen) >= s.opt.Idle {
		s.st.EndSession(ctx, hash)
		return store.Operator{}, ErrNoSession
	}
	o, err := s.st.Operator(ctx, se.OperatorID)
	if err != nil || o.Disabled {
		return store.Operator{}, ErrNoSession
	}
	if now.Sub(se.LastSeen) >= time.Minute {
		s.st.TouchSession(ctx, hash, now)
	}
	return o, nil
}

// SignOut ends the session of token.
func (s *Service) SignOut(ctx context.Context, place, token string) error {
	o, err := s.Session(ctx, token)
	if err != nil {
		return nil
	}
	a := consent.Actor{ID: "operator:" + o.ID, Role: o.Role, Place: place}
	return s.st.EndSession(ctx, HashToken(token), s.entry(a, "console.sign_out", "operator:"+o.ID, audit.OutcomeOK, nil))
}

// Demo accounts, for `custos serve --demo` only. Their passwords are
// published in docs/console.md.
var Demo = []struct{ Username, DisplayName, Role, Password string }{
	{"demo-admin", "Demo Admin", RoleAdmin, "custos-demo-admin"},
	{"demo-operator", "Demo Operator", RoleOperator, "custos-demo-operator"},
	{"demo-approver", "Demo Approver", RoleOperator, "custos-demo-approver"},
}

// SeedDemo creates the demo accounts that do not exist yet.
func (s *Service) SeedDemo(ctx context.Context, a consent.Actor) error {
	for _, d := range Demo {
		if _, err := s.st.OperatorByUsername(ctx, d.Username); err == nil {
			continue
		}
		if _, err := s.Create(ctx, a, d.Username, d.DisplayName, d.Role, d.Password); err != nil {
			return fmt.Errorf("demo operator %s: %w", d.Username, err)
		}
	}
	return nil
}

// HashToken is the stored form of a session token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func newToken() (string, []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	return t, HashToken(t)
}

func newID(prefix string) string {
	b := make([]byte, 10)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
