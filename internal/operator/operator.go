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
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/ids"
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
	SetOperatorPassword(ctx context.Context, id, hash, setBy string, at time.Time, entries ...audit.Entry) error
	SetOperatorDisabled(ctx context.Context, id string, disabled bool, at time.Time, entries ...audit.Entry) error
	RecordSignInFailure(ctx context.Context, id string, max int, now, lockUntil time.Time, entries ...audit.Entry) (int, error)
	StartSession(ctx context.Context, se store.Session, g store.SessionGuard, entries ...audit.Entry) error
	SessionByHash(ctx context.Context, hash []byte) (store.Session, error)
	TouchSession(ctx context.Context, hash []byte, at time.Time) error
	EndSession(ctx context.Context, hash []byte, entries ...audit.Entry) error
	AppendAudit(ctx context.Context, entries ...audit.Entry) error
}

// DefaultIdle is how long a session lasts unused, unless Options say.
const DefaultIdle = 30 * time.Minute

// Options tune sign-in and sessions; zero values take the defaults.
type Options struct {
	Params      Params
	MaxFailures int           // failed sign-ins before a lockout (5)
	Lockout     time.Duration // how long a lockout lasts (15 min)
	Idle        time.Duration // a session ends after this long unused (30 min)
	Absolute    time.Duration // and this long after sign-in at the latest (12 h)
	// MaxHashing caps the password hashes computed at once (4): each
	// takes Params.Memory, so a flood of sign-ins cannot exhaust memory.
	// It sizes a gate of the service's own when Gate is nil.
	MaxHashing int
	// Gate, when set, is the cap shared with other services: a deployment
	// of many organisations gives all of theirs one, so that a flood
	// spread over them is held to one cap, not one per organisation.
	Gate *Gate
	Now  func() time.Time
}

// Gate caps the password hashes computed at once by the services that
// share it.
type Gate struct{ slots chan struct{} }

// NewGate returns a gate letting n hashes run at once (4 when n <= 0).
func NewGate(n int) *Gate {
	if n <= 0 {
		n = 4
	}
	return &Gate{slots: make(chan struct{}, n)}
}

// Who set a password, besides an admin's or the operator's own username.
const (
	SetByCLI    = "cli"
	SetBySystem = "system"
)

// Service manages accounts and sessions.
type Service struct {
	st    Store
	opt   Options
	dummy string // hash checked for unknown usernames, so they take as long
	// hashing holds a slot per password hash in progress (the gate's).
	hashing chan struct{}
	// users serialises sign-ins per username within this instance: a
	// fixed table of one-slot semaphores, the username hashed to a slot.
	users [userSlots]chan struct{}
}

const userSlots = 256

// Errors the console shows. ErrSignIn is the only answer to a failed
// sign-in, whatever the cause: it does not tell whether the user exists
// or is locked out.
var (
	ErrSignIn    = fault.New(fault.Unauthorized, "sign_in_failed", "wrong username or password, or the account is locked")
	ErrNoSession = fault.New(fault.Unauthorized, "no_session", "not signed in")
	// ErrBusy: too many password checks at once; the request gave up
	// waiting for its turn.
	ErrBusy = fault.New(fault.Unavailable, "busy", "too many sign-ins at once; try again in a moment")
	// ErrWrongPassword: the current password given to change it is wrong.
	ErrWrongPassword = fault.New(fault.Invalid, "wrong_password", "the current password is wrong").At("current")
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
		opt.Idle = DefaultIdle
	}
	if opt.Absolute <= 0 {
		opt.Absolute = 12 * time.Hour
	}
	if opt.Gate == nil {
		opt.Gate = NewGate(opt.MaxHashing)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	dummy, err := dummyHash(opt.Params)
	if err != nil {
		return nil, err
	}
	s := &Service{st: st, opt: opt, dummy: dummy, hashing: opt.Gate.slots}
	for i := range s.users {
		s.users[i] = make(chan struct{}, 1)
	}
	return s, nil
}

// dummies are the hashes of random passwords checked for unknown
// usernames, one per parameters for the process: a hash costs its memory
// and tens of milliseconds, which a deployment starting many
// organisations' services need not pay for each.
var dummies struct {
	mu sync.Mutex
	of map[Params]string
}

func dummyHash(p Params) (string, error) {
	dummies.mu.Lock()
	defer dummies.mu.Unlock()
	if h, ok := dummies.of[p]; ok {
		return h, nil
	}
	b := make([]byte, 16)
	rand.Read(b)
	h, err := HashPassword(hex.EncodeToString(b), p)
	if err != nil {
		return "", err
	}
	if dummies.of == nil {
		dummies.of = map[Params]string{}
	}
	dummies.of[p] = h
	return h, nil
}

// acquire waits for a slot of sem, or until ctx ends (ErrBusy).
func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	default:
	}
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ErrBusy
	}
}

// hash computes a password hash within the cap on hashes at once.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := acquire(ctx, s.hashing); err != nil {
		return "", err
	}
	defer func() { <-s.hashing }()
	return HashPassword(password, s.opt.Params)
}

// check checks a password within the cap on hashes at once.
func (s *Service) check(ctx context.Context, encoded, password string) (bool, error) {
	if err := acquire(ctx, s.hashing); err != nil {
		return false, err
	}
	defer func() { <-s.hashing }()
	return CheckPassword(encoded, password)
}

// userLock serialises the sign-ins of one username within this instance.
func (s *Service) userLock(ctx context.Context, username string) (func(), error) {
	h := fnv.New32a()
	h.Write([]byte(username))
	sem := s.users[h.Sum32()%userSlots]
	if err := acquire(ctx, sem); err != nil {
		return nil, err
	}
	return func() { <-sem }, nil
}

// Options returns the options in force (defaults filled in).
func (s *Service) Options() Options { return s.opt }

var usernameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,62}$`)

// reserved usernames name who set a password without an account.
var reserved = []string{SetByCLI, SetBySystem}

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
	return audit.NewEntry(s.opt.Now(), a, action, object, "console", outcome, detail)
}

// Create makes an account. setBy is who sets its first password: the
// admin's username, SetByCLI or SetBySystem. The creation is audited; the
// password is not.
func (s *Service) Create(ctx context.Context, a consent.Actor, setBy, username, displayName, role, password string) (store.Operator, error) {
	if !usernameRe.MatchString(username) {
		return store.Operator{}, fault.New(fault.Invalid, "invalid_username", "a username is 2–63 lower-case letters, digits, '.', '_' or '-'").At("username")
	}
	if slices.Contains(reserved, username) {
		return store.Operator{}, fault.New(fault.Invalid, "invalid_username", "the usernames %q and %q are reserved", SetByCLI, SetBySystem).At("username")
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
	hash, err := s.hash(ctx, password)
	if err != nil {
		return store.Operator{}, err
	}
	now := s.opt.Now()
	o := store.Operator{ID: ids.New("op_"), Username: username, DisplayName: displayName, Role: role, PasswordHash: hash, PasswordSetBy: setBy, CreatedAt: now, UpdatedAt: now}
	err = s.st.CreateOperator(ctx, o, s.entry(a, "operator.create", "operator:"+o.ID, audit.OutcomeOK, map[string]any{"role": role, "password_set_by": setBy}))
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
// account's sessions. setBy is who sets it: the admin's username or
// SetByCLI; an account whose password another set cannot decide on that
// one's batch requests.
func (s *Service) ResetPassword(ctx context.Context, a consent.Actor, setBy, username, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	o, err := s.byName(ctx, username)
	if err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return s.st.SetOperatorPassword(ctx, o.ID, hash, setBy, s.opt.Now(), s.entry(a, "operator.reset_password", "operator:"+o.ID, audit.OutcomeOK, map[string]any{"password_set_by": setBy}))
}

// ChangePassword lets a signed-in operator replace their own password,
// given the current one and the new one twice. The account is then
// their own (its password set by themselves); its sessions end. A wrong
// current password counts as a failed sign-in.
func (s *Service) ChangePassword(ctx context.Context, a consent.Actor, id, current, password, repeat string) error {
	if password != repeat {
		return fault.New(fault.Invalid, "password_mismatch", "the new password and its repetition differ").At("repeat")
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	o, err := s.st.Operator(ctx, id)
	if err != nil {
		return err
	}
	unlock, err := s.userLock(ctx, o.Username)
	if err != nil {
		return err
	}
	defer unlock()
	if o, err = s.st.Operator(ctx, id); err != nil {
		return err
	}
	now := s.opt.Now()
	object := "operator:" + o.ID
	if o.Disabled || now.Before(o.LockedUntil) {
		return ErrWrongPassword
	}
	ok, err := s.check(ctx, o.PasswordHash, current)
	if err != nil && errors.Is(err, ErrBusy) {
		return err
	}
	if !ok {
		fail := s.entry(a, "operator.change_password", object, audit.OutcomeDenied, map[string]any{"reason": "wrong_password"})
		n, err := s.st.RecordSignInFailure(ctx, o.ID, s.opt.MaxFailures, now, now.Add(s.opt.Lockout), fail)
		if err != nil && !errors.Is(err, store.ErrLocked) {
			return err
		}
		if err == nil && n >= s.opt.MaxFailures {
			s.st.AppendAudit(ctx, s.entry(a, "console.lockout", object, audit.OutcomeOK, map[string]any{"failures": n}))
		}
		return ErrWrongPassword
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return s.st.SetOperatorPassword(ctx, o.ID, hash, o.Username, now, s.entry(a, "operator.change_password", object, audit.OutcomeOK, map[string]any{"password_set_by": o.Username}))
}

// SignIn checks a username and password and starts a session, returning
// its token (shown to the browser only). Every failure is ErrSignIn and
// costs one password hash, known user or not. Failures, lockouts and
// sign-ins are audited (never the password; an unknown username is not
// recorded, as it may be a mistyped password).
//
// Attempts on one username are taken one at a time within the instance,
// and the database decides atomically: a failure is not counted on an
// account already locked, and the session is started only if, inside
// its transaction, the account is still enabled, unlocked, under the
// failure limit and has the password checked. Parallel guesses therefore
// cannot exceed MaxFailures nor sign in after the lock.
//
// When too many hashes run at once and ctx ends while waiting, SignIn
// returns ErrBusy.
func (s *Service) SignIn(ctx context.Context, place, username, password string) (string, store.Operator, error) {
	anon := consent.Actor{ID: "anonymous", Role: "none", Place: place}
	if len(username) > 100 {
		username = username[:100]
	}
	unlock, err := s.userLock(ctx, username)
	if err != nil {
		return "", store.Operator{}, err
	}
	defer unlock()
	o, err := s.st.OperatorByUsername(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", store.Operator{}, err
	}
	if err != nil || len(password) > 1024 {
		if _, err := s.check(ctx, s.dummy, password); errors.Is(err, ErrBusy) {
			return "", store.Operator{}, err
		}
		s.st.AppendAudit(ctx, s.entry(anon, "console.sign_in", "operator:unknown", audit.OutcomeDenied, map[string]any{"reason": "unknown_user"}))
		return "", store.Operator{}, ErrSignIn
	}
	actor := consent.Actor{ID: "operator:" + o.ID, Role: o.Role, Place: place}
	object := "operator:" + o.ID
	ok, err := s.check(ctx, o.PasswordHash, password)
	if errors.Is(err, ErrBusy) {
		return "", store.Operator{}, err
	}
	now := s.opt.Now()
	locked := func() (string, store.Operator, error) {
		s.st.AppendAudit(ctx, s.entry(actor, "console.sign_in", object, audit.OutcomeDenied, map[string]any{"reason": "locked"}))
		return "", store.Operator{}, ErrSignIn
	}
	switch {
	case o.Disabled:
		s.st.AppendAudit(ctx, s.entry(actor, "console.sign_in", object, audit.OutcomeDenied, map[string]any{"reason": "disabled"}))
		return "", store.Operator{}, ErrSignIn
	case now.Before(o.LockedUntil):
		return locked()
	case !ok:
		until := now.Add(s.opt.Lockout)
		fail := s.entry(actor, "console.sign_in", object, audit.OutcomeDenied, map[string]any{"reason": "wrong_password"})
		n, err := s.st.RecordSignInFailure(ctx, o.ID, s.opt.MaxFailures, now, until, fail)
		if errors.Is(err, store.ErrLocked) {
			return locked()
		}
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
	g := store.SessionGuard{Now: now, MaxFailures: s.opt.MaxFailures, PasswordHash: o.PasswordHash}
	err = s.st.StartSession(ctx, se, g, s.entry(actor, "console.sign_in", object, audit.OutcomeOK, nil))
	if errors.Is(err, store.ErrLocked) {
		return locked()
	}
	if err != nil {
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
		if _, err := s.Create(ctx, a, SetBySystem, d.Username, d.DisplayName, d.Role, d.Password); err != nil {
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
