// Package signin is the privacy center's sign-in by one-time code. It
// follows the public rights intake: a six-digit code goes to an email
// address or phone number the person registered, the answer is the same,
// in its words and in its time, whether or not it is on file, and the
// limits count the claimed identity either way.
//
// Pending sign-ins are kept in the database, so that the code can be
// entered on whichever instance the next request reaches; codes are kept
// only as HMACs under the center's key.
package signin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/ratelimit"
	"github.com/custos-privacy/custos/internal/store"
)

// The limits of signing in.
const (
	// CodeTTL is how long a code may be entered.
	CodeTTL = 15 * time.Minute
	// MaxAttempts is how many codes may be tried for one sign-in; the
	// next attempt ends it.
	MaxAttempts = 5
	// PerIdentity and PerAddress bound the sign-ins started in an hour for
	// one claimed identity and from one source address: each sends a
	// message to a person, who must not be flooded.
	PerIdentity = 5
	PerAddress  = 30
	// VerifyPerAddress bounds the codes tried from one address in an hour,
	// across the sign-ins it starts.
	VerifyPerAddress = 10 * MaxAttempts
)

// Errors a caller tells the person about.
var (
	ErrInvalidIdentity = fault.New(fault.BadRequest, "invalid_identity", "give a valid email address or phone number")
	ErrRateLimited     = fault.New(fault.TooMany, "rate_limited", "too many attempts; try again later")
	// ErrWrongCode is a wrong or expired code, or any code for an
	// identity not on file: the person may try again.
	ErrWrongCode = fault.New(fault.BadRequest, "invalid_code", "the code is wrong or has expired")
	// ErrTooManyAttempts and ErrNoSignin end the sign-in: the person
	// asks for a new code.
	ErrTooManyAttempts = fault.New(fault.BadRequest, "signin_again", "too many wrong codes; ask for a new one")
	ErrNoSignin        = fault.New(fault.BadRequest, "signin_again", "no sign-in is in progress; ask for a new code")
)

// Store is the persistence of pending sign-ins.
type Store interface {
	PutSignin(ctx context.Context, si store.Signin) error
	// SigninAttempt counts one attempt durably and returns the sign-in
	// with its attempts, before the code is compared.
	SigninAttempt(ctx context.Context, id string) (store.Signin, error)
	DeleteSignin(ctx context.Context, id string) error
}

// Codes sends one-time codes: the rights-request service. Holder finds,
// in the same time whether or not there is one, the subject holding an
// identity (store.ErrNotFound when nobody does); QueueCode returns at once
// and sends the code, or nothing, behind the answer.
type Codes interface {
	Holder(ctx context.Context, kind string, hash []byte) (string, error)
	QueueCode(kind string, hash []byte, code, lang string, ttl time.Duration, vars map[string]string)
}

// Options are what signing in runs on. Hasher and Codes are both needed.
type Options struct {
	// Hasher finds a subject by a keyed hash of the identity.
	Hasher *identity.Hasher
	Codes  Codes
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Service starts and finishes sign-ins.
type Service struct {
	st     Store
	key    []byte
	opt    Options
	limits *ratelimit.Window
}

// New returns sign-ins kept in st, with codes keyed by key (at least 32
// bytes). The rate limits are this instance's own.
func New(st Store, key []byte, opt Options) (*Service, error) {
	if st == nil || opt.Hasher == nil || opt.Codes == nil {
		return nil, errors.New("signin: needs the store, the identity hasher and the code messages")
	}
	if len(key) < 32 {
		return nil, errors.New("signin: the key must be at least 32 bytes")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{st: st, key: key, opt: opt, limits: ratelimit.New(time.Hour)}, nil
}

// hash is a code as it is kept: bound to its sign-in, so that a code hash
// copied to another row does not match there.
func (s *Service) hash(id, code string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("custos center sign-in code\x00" + id + "\x00" + code))
	return m.Sum(nil)
}

// Start begins a sign-in with the identity a person claims (kind is email
// or phone, value as typed) from place (the client's address and host),
// and returns its id. The sign-in is recorded with the subject holding the
// identity, or without one, so that it fails like a wrong code, and the
// code is queued either way: it reaches the identity when it is on file
// with its value kept. Neither the answer nor the time it takes tells
// whether the identity is known.
func (s *Service) Start(ctx context.Context, place, kind, value, lang string) (string, error) {
	if kind != identity.KindEmail && kind != identity.KindPhone {
		return "", ErrInvalidIdentity
	}
	norm, err := identity.Normalize(kind, value)
	if err != nil {
		return "", ErrInvalidIdentity // the cause would quote the value
	}
	now := s.opt.Now()
	hash := s.opt.Hasher.Hash(kind, norm)
	if !s.limits.Allow("signin-addr:"+ratelimit.Client(place), PerAddress, now) || !s.limits.Allow("signin-id:"+string(hash), PerIdentity, now) {
		return "", ErrRateLimited
	}
	subject, err := s.opt.Codes.Holder(ctx, kind, hash)
	if errors.Is(err, store.ErrNotFound) {
		subject, err = "", nil
	}
	if err != nil {
		return "", err
	}
	code := dsr.NewCode()
	id := newID()
	si := store.Signin{ID: id, SubjectID: subject, CodeHash: s.hash(id, code), ExpiresAt: now.Add(CodeTTL), CreatedAt: now}
	if err := s.st.PutSignin(ctx, si); err != nil {
		return "", err
	}
	s.opt.Codes.QueueCode(kind, hash, code, lang, CodeTTL, nil)
	return id, nil
}

// Verify checks a code for sign-in id tried from place, and returns the
// subject signed in. Every attempt is counted in the database before the
// constant-time comparison, so neither a crash nor another instance gives
// a guesser extra tries; the sign-in ends on success and on the attempt
// after MaxAttempts.
func (s *Service) Verify(ctx context.Context, place, id, code string) (string, error) {
	now := s.opt.Now()
	if !s.limits.Allow("signin-verify:"+ratelimit.Client(place), VerifyPerAddress, now) {
		return "", ErrRateLimited
	}
	si, err := s.st.SigninAttempt(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrNoSignin
	}
	if err != nil {
		return "", err
	}
	if si.Attempts > MaxAttempts {
		return "", errors.Join(ErrTooManyAttempts, s.st.DeleteSignin(ctx, id))
	}
	good := hmac.Equal(si.CodeHash, s.hash(id, code))
	if !good || now.After(si.ExpiresAt) || si.SubjectID == "" {
		return "", ErrWrongCode
	}
	if err := s.st.DeleteSignin(ctx, id); err != nil {
		return "", err
	}
	return si.SubjectID, nil
}

func newID() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
