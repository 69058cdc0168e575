// Package server assembles a running Custos from its configuration: the
// store, the keys, the consent service, the API, and their lifecycle.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-privacy/custos/examples"
	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/apikey"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/checkpoint"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/incident"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/org"
	"github.com/custos-privacy/custos/internal/propagate"
	"github.com/custos-privacy/custos/internal/receipt"
	"github.com/custos-privacy/custos/internal/retention"
	"github.com/custos-privacy/custos/internal/seal"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/transfer"
	"github.com/custos-privacy/custos/internal/vault"
)

// Keys are the secrets a server runs with.
type Keys struct {
	Hasher *identity.Hasher
	// Sealer is the data keyset; it wraps the per-owner keys of the key
	// store (OpenKeystore), which seal what is kept about people.
	Sealer *seal.Sealer
	Signer *receipt.Signer
	// AuditKey keys the audit trail and the consent ledger; PriorAuditKeys
	// are those of the identity keys before rotations, oldest first, which
	// verification needs for the entries chained before each rotation.
	AuditKey       []byte
	PriorAuditKeys [][]byte
	// CenterKey signs the privacy center's session cookies.
	CenterKey []byte
	// VaultKey keys the tokens that stand for vault values in joins, from
	// the first identity key; VaultRotatedKeys, from the keys rotation
	// added, move them on (vault.Retoken).
	VaultKey         []byte
	VaultRotatedKeys [][]byte

	// Checkpoints signs checkpoints with the receipt key, under its key id.
	Checkpoints *checkpoint.Signer
	// Certificates signs erasure certificates with the receipt key, under
	// its key id, so the published key set verifies them too.
	Certificates *certificate.Signer
}

// LoadKeys turns the configured secrets into keys. The identity key is
// required (without it nobody can be looked up); it also keys the audit
// chain, under a separate label.
func LoadKeys(cfg config.Config) (Keys, error) {
	var k Keys
	if !cfg.IdentityKey.IsSet() {
		return k, errors.New("no identity key: set CUSTOS_IDENTITY_KEY_FILE or --secrets-dir (create one with `custos secrets init DIR`)")
	}
	chain, err := secrets.DecodeIdentityKeys(cfg.IdentityKey.Reveal())
	if err != nil {
		return k, fmt.Errorf("identity key: %w", err)
	}
	if k.Hasher, err = identity.NewHasher(chain...); err != nil {
		return k, fmt.Errorf("identity key: %w", err)
	}
	raw := chain[len(chain)-1]
	for _, old := range chain[:len(chain)-1] {
		k.PriorAuditKeys = append(k.PriorAuditKeys, AuditKey(old))
	}
	k.AuditKey = AuditKey(raw)
	k.CenterKey = deriveKey(raw, "custos privacy center session v1")
	k.VaultKey = VaultKey(chain[0])
	for _, later := range chain[1:] {
		k.VaultRotatedKeys = append(k.VaultRotatedKeys, VaultKey(later))
	}
	if cfg.DataKeyset.IsSet() {
		if k.Sealer, err = seal.New(cfg.DataKeyset.Reveal()); err != nil {
			return k, fmt.Errorf("data keyset: %w", err)
		}
	}
	if cfg.ReceiptKey.IsSet() {
		if k.Signer, err = receipt.NewSigner(cfg.ReceiptKey.Reveal()); err != nil {
			return k, fmt.Errorf("receipt key: %w", err)
		}
		priv, err := secrets.ParseReceiptKey(cfg.ReceiptKey.Reveal())
		if err != nil {
			return k, fmt.Errorf("receipt key: %w", err)
		}
		if k.Checkpoints, err = checkpoint.NewSigner(priv, k.Signer.KeyID()); err != nil {
			return k, err
		}
		if k.Certificates, err = certificate.NewSigner(priv, k.Signer.KeyID()); err != nil {
			return k, err
		}
	}
	return k, nil
}

// OpenStore opens the configured database and checks its schema. log is
// told of queued writes that fail (nil: slog.Default()).
func OpenStore(ctx context.Context, cfg config.Config, keys Keys, migrate bool, log *slog.Logger) (*store.Store, error) {
	dsn := cfg.DB
	if cfg.DBKind() == config.DBSQLite {
		dsn = cfg.SQLitePath()
	}
	st, err := store.Open(ctx, dsn, store.Options{AuditKey: keys.AuditKey, PriorAuditKeys: keys.PriorAuditKeys, Logger: log, MaxConns: cfg.DBConns})
	if err != nil {
		return nil, err
	}
	if migrate {
		if _, err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
	}
	if err := st.CheckSchema(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.Org != "" && cfg.Org != store.DefaultOrg {
		if _, err := st.Organisation(ctx, cfg.Org); err != nil {
			st.Close()
			if errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("no organisation %s in this database (custos orgs list)", cfg.Org)
			}
			return nil, err
		}
		st = st.ForOrg(cfg.Org)
	}
	if st.Dialect() == store.Postgres {
		if on, err := st.RowSecurity(ctx); err == nil && !on {
			if log == nil {
				log = slog.Default()
			}
			log.Warn("the database role is a superuser or has BYPASSRLS, so row-level security does not bind it: organisations are kept apart by Custos's own scoping alone; run Custos as an ordinary role (docs/organisations.md)")
		}
	}
	return st, nil
}

// OpenKeystore opens the key store of the per-owner keys, wrapped by the
// data keyset, and has st close it. A PostgreSQL database needs one set
// apart (config.ErrNoKeystore).
func OpenKeystore(ctx context.Context, cfg config.Config, keys Keys, st *store.Store) (*keystore.Store, error) {
	dsn := cfg.KeystoreDSN()
	if dsn == "" {
		return nil, config.ErrNoKeystore
	}
	// An organisation's keys are its own in the key store too; the
	// deployment's own are under "".
	org := st.Org()
	if org == store.DefaultOrg {
		org = ""
	}
	ks, err := keystore.Open(ctx, dsn, keys.Sealer, keystore.Options{Org: org})
	if err != nil {
		return nil, err
	}
	st.CloseAfter(ks)
	return ks, nil
}

// Server is a running Custos.
type Server struct {
	cfg   config.Config
	log   *slog.Logger
	st    *store.Store
	ks    *keystore.Store
	svc   *consent.Service
	api   *api.API
	http  *http.Server
	demo  *Demo
	start time.Time

	// routing is what the server answers; the deployment's own server
	// matches every organisation's requests against its patterns.
	routing routeTable

	requests   *dsr.Service
	dispatcher *notify.Dispatcher
	// certificates signs the organisation's erasure certificates (nil
	// without a receipt key).
	certificates *certificate.Signer
	// registry is the deployment's registry, on the deployment's own
	// organisation's server only (nil on the others').
	registry *org.Registry
	// changed wakes the organisation's change feed (wakeChanges).
	changed chan struct{}
	// holds are the organisation's legal holds.
	holds *hold.Service
	// now is the server's clock (WithClock).
	now        func() time.Time
	propagator *propagate.Propagator
	retention  *vaultRetention
	// dataset is the annotation of the organisation's databases; nil without one.
	dataset *dataset.Dataset
	// incidents keeps the organisation's security incidents.
	incidents *incident.Service
	// retentionJob sweeps the dataset's databases daily; nil without a
	// dataset or with the sweep off.
	retentionJob *retentionJob
	// transfers counts the people whose information goes abroad; nil
	// without an audit key. unhookTransfers takes it off the decision
	// point and the ledger.
	transfers       *transfer.Service
	unhookTransfers func()

	// checkpoints writes signed checkpoints, when they are configured;
	// trail is the audit trail verified against them.
	checkpoints *checkpoint.Writer
	trail       *audit.Trail

	// passwords is the deployment's cap on password hashes at once.
	passwords *operator.Gate

	// ownsStore is set on the deployment's own server, which opened the
	// database and closes it.
	ownsStore bool
	// orgs are the other organisations and their servers, on the
	// deployment's own server (orgs.go); loops are the organisation's
	// background work, waited for when it stops being served.
	orgs  orgRegistry
	loops sync.WaitGroup
	// datastores are the connections to the dataset's databases.
	datastores []execute.Store
}

// publicURL is where the organisation's server is reached from outside,
// for links in messages: --public-url for the deployment's own, the first
// of its hosts (https) for another organisation, whose acknowledgement
// links only its own hosts check; "" when neither is known.
func publicURL(ctx context.Context, cfg config.Config, st *store.Store) string {
	if cfg.Org == "" || cfg.Org == store.DefaultOrg {
		return cfg.PublicURL
	}
	if og, err := st.Organisation(ctx, cfg.Org); err == nil && len(og.Hosts) > 0 {
		return "https://" + og.Hosts[0]
	}
	return ""
}

// senders picks where messages go: SMTP and the SMS webhook when
// configured, else the development file sink when a directory is given.
func senders(cfg config.Config) notify.Sender {
	var m notify.MultiSender
	var file notify.Sender
	if cfg.NotifyDir != "" {
		file = &notify.FileSender{Dir: cfg.NotifyDir}
	}
	m.Email, m.SMS = file, file
	if cfg.SMTPAddr != "" {
		m.Email = &notify.SMTPSender{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPUser, Password: string(cfg.SMTPPassword.Reveal())}
	}
	if cfg.SMSWebhookURL != "" {
		m.SMS = &notify.WebhookSender{URL: cfg.SMSWebhookURL, Secret: string(cfg.SMSWebhookKey.Reveal())}
	}
	return m
}

// Certificates returns the signer of the organisation's erasure
// certificates, under its receipt key; nil without one.
func (s *Server) Certificates() *certificate.Signer { return s.certificates }

// Requests returns the rights-request service (nil without a data keyset).
func (s *Server) Requests() *dsr.Service { return s.requests }

// Vault returns the vault; nil without a data keyset.
func (s *Server) Vault() *vault.Service {
	if s.retention == nil {
		return nil
	}
	return s.retention.vault
}

// Dispatcher returns the message dispatcher (nil without a data keyset).
func (s *Server) Dispatcher() *notify.Dispatcher { return s.dispatcher }

// Option tunes a server beyond its configuration.
type Option func(*options)

type options struct {
	now  func() time.Time
	demo DemoOptions
	// keystore is the deployment's key store, whose database another
	// organisation's server shares.
	keystore *keystore.Store
	// passwords caps the password hashes computed at once across the
	// deployment's organisations (their consoles' sign-ins).
	passwords *operator.Gate
}

// WithClock sets the clock the server's decisions, deadlines and policy
// versions read, for tests that move time (an announced version's
// instant, a cooling-off period).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New assembles a server. In demo mode it lays out the demo directory
// (secrets, outbox, admin key), migrates the database, publishes the
// starter manifest and adds demo subjects (see DemoOptions).
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (*Server, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	o.passwords = operator.NewGate(0)
	s, err := newServer(ctx, cfg, log, o, nil)
	if err != nil {
		return nil, err
	}
	s.orgs.opts = o
	if err := s.addOrganisations(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// newServer assembles one organisation's server: the deployment's own
// (shared nil: it opens the database) or, with the deployment's store,
// another organisation's (cfg from config.ForOrg).
func newServer(ctx context.Context, cfg config.Config, log *slog.Logger, o options, shared *store.Store) (*Server, error) {
	var demo *Demo
	if cfg.Demo {
		var err error
		if demo, err = prepareDemo(&cfg, o.demo); err != nil {
			return nil, err
		}
	}
	keys, err := LoadKeys(cfg)
	if err != nil {
		return nil, err
	}
	// The demo's history is written through the services with their clock
	// held in the past; it needs the starter manifest and rights requests.
	history := cfg.Demo && o.demo.History && cfg.Manifest == "" && keys.Sealer != nil
	now := o.now
	var clock *demoClock
	if history {
		clock = &demoClock{base: o.now}
		now = clock.Now
	}
	// An organisation of the deployment works in the database the
	// deployment opened, through a handle of its own under its own keys.
	var st *store.Store
	if shared != nil {
		st = shared.ForOrg(cfg.Org).WithChainKeys(keys.AuditKey, keys.PriorAuditKeys)
	} else if st, err = OpenStore(ctx, cfg, keys, cfg.Demo, log); err != nil {
		return nil, err
	}
	release := func() {
		if shared == nil {
			st.Close()
		}
	}
	var ks *keystore.Store
	switch {
	case keys.Sealer != nil && shared != nil && o.keystore != nil:
		// Another organisation: its keys, on the deployment's pool.
		ks = o.keystore.ForOrg(cfg.Org, keys.Sealer)
	case keys.Sealer != nil:
		if ks, err = OpenKeystore(ctx, cfg, keys, st); err != nil {
			release()
			return nil, err
		}
	}
	if shared != nil {
		// Another organisation publishes its manifest with custos policy
		// publish --org; without one it is not served. Asked before the
		// services hook onto the shared writer.
		if _, err := st.CurrentPolicy(ctx); errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("no policy is published: publish one with custos policy publish --org %s", cfg.Org)
		} else if err != nil {
			return nil, err
		}
	}
	var requests *dsr.Service
	system := audit.System(hostname())
	svc, err := consent.New(ctx, st, consent.Options{Hasher: keys.Hasher, Keys: ks, Signer: keys.Signer, Logger: log, CheckSample: cfg.CheckSample, CacheSize: cfg.CacheSubjects, Now: now,
		CheckPolicy: org.New(st).PolicyCheck(st.Org()),
		MinorDiscovered: func(ctx context.Context, subjectID, lang string) error {
			if requests == nil {
				return errors.New("rights requests are disabled (no data keyset): erase the subject's information by hand")
			}
			return requests.OpenErasure(ctx, system, subjectID, lang, "minor discovered without a guardian's consent (minors.delete_if_discovered)")
		}})
	if err != nil {
		release()
		return nil, err
	}
	// From here, giving up takes the service off the shared writer too.
	closeStore := release
	release = func() {
		svc.Close()
		closeStore()
	}
	// A fresh demo database gets its history, which publishes the
	// versions itself; on later starts the history is there already.
	_, _, _, noPolicy := svc.Policy()
	freshHistory := history && noPolicy != nil
	var source []byte
	name := cfg.Manifest
	switch {
	case cfg.Manifest != "":
		if source, err = os.ReadFile(cfg.Manifest); err != nil {
			release()
			return nil, fmt.Errorf("manifest: %w", err)
		}
	case cfg.Demo && !history:
		source, name = examples.Starter, "examples/starter/custos.yaml"
	}
	if source != nil {
		p, err := svc.Publish(ctx, system, name, source)
		if err != nil {
			release()
			return nil, fmt.Errorf("publish %s: %w", name, err)
		}
		if p.Created {
			log.Info("published policy version", "version", p.Version, "material", p.Material, "reconsent", len(p.Reconsent))
		}
	} else if _, _, _, err := svc.Policy(); err != nil && !freshHistory {
		release()
		return nil, errors.New("no policy is published: give --manifest PATH, or publish one with `custos policy publish`")
	}
	var vlt *vault.Service
	if ks != nil {
		if vlt, err = vault.New(st, svc, vault.Options{Keys: ks, TokenKey: keys.VaultKey, RotatedTokenKeys: keys.VaultRotatedKeys, Now: now}); err != nil {
			release()
			return nil, err
		}
	}
	var dispatcher *notify.Dispatcher
	if keys.Sealer != nil {
		if !cfg.Delivers("email") && !cfg.Delivers("sms") {
			log.Warn("no message channel: one-time codes for public rights requests and privacy-center sign-in cannot be sent, and both refuse with no_message_channel (set CUSTOS_SMTP_ADDR or CUSTOS_SMS_WEBHOOK_URL; CUSTOS_NOTIFY_DIR in development)")
		}
		// Transmissions of portability exports are signed with the same
		// secret as notices to recipients; dsr.Options.Egress stays zero:
		// the endpoints are the public's to give, and never reach this
		// machine or its network.
		if requests, err = dsr.New(st, svc, dsr.Options{Hasher: keys.Hasher, Keys: ks, Logger: log, Now: now, Delivers: cfg.Delivers, Vault: vlt,
			Certificates: keys.Certificates, Instance: hostname(), TransmitSecret: cfg.WebhookSecret.Reveal(), AckKey: ackKey(keys.AuditKey), PriorAckKeys: priorAckKeys(keys), PublicURL: publicURL(ctx, cfg, st)}); err != nil {
			release()
			return nil, err
		}
		dispatcher = &notify.Dispatcher{Outbox: st.Outbox(), Sealer: ks, Sender: senders(cfg), Logger: log}
	} else if shared == nil || o.keystore != nil {
		log.Warn("no data keyset: rights requests are disabled (custos secrets init creates one)")
	} else {
		// The deployment has none either, and has said so once for all.
		log.Debug("no data keyset: rights requests are disabled")
	}
	var stores []execute.Store
	var annotation *dataset.Dataset
	if cfg.Dataset != "" {
		if annotation, stores, err = openDatasetStores(ctx, cfg.Dataset); err != nil {
			release()
			return nil, err
		}
		if requests != nil {
			requests.AddExecutor(openDatastores(stores, requests, keys))
		}
	}
	reg := prometheus.NewRegistry()
	checkpoints, trail, err := openCheckpoints(cfg, keys, st, reg)
	if err != nil {
		release()
		return nil, err
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "custos_audit_write_failures_total",
		Help: "Queued audit writes (decision records) that failed to commit and were lost; each is logged."},
		func() float64 { return float64(st.DroppedWrites()) }))
	if dispatcher != nil {
		messages := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_messages_total",
			Help: "Attempts at sending messages to people (codes, notices) by channel and outcome: sent, retry (failed, tried again later) or dead (given up)."},
			[]string{"channel", "outcome"})
		for _, ch := range []string{notify.ChannelEmail, notify.ChannelSMS} {
			for _, o := range []string{notify.OutcomeSent, notify.OutcomeRetry, notify.OutcomeDead} {
				messages.WithLabelValues(ch, o) // present at 0, so that rate() sees the first failure
			}
		}
		reg.MustRegister(messages)
		dispatcher.Observe = func(channel, outcome string) { messages.WithLabelValues(channel, outcome).Inc() }
	}
	apiKeys := apikey.New(st, apikey.Options{Changes: svc})
	// The registry of organisations is the deployment's own organisation's.
	var registry *org.Registry
	if shared == nil {
		registry = org.New(st).WithCheckpoints(cfg.Checkpoints)
	}
	holds := hold.New(st, hold.Options{Logger: log, Now: now})
	transfers, unhookTransfers, err := openTransfers(st, svc, keys, ks, reg, log, now, true)
	if err != nil {
		release()
		return nil, err
	}
	if transfers != nil {
		closeServices := release
		release = func() {
			unhookTransfers()
			transfers.Close()
			closeServices()
		}
	}
	incOpt := incident.Options{Logger: log, Now: now, Policy: policyOf(svc), Datastores: stores, Hasher: keys.Hasher}
	if ks != nil {
		incOpt.Identities, incOpt.Sealer = svc, ks
	}
	incidents := incident.New(st, incOpt)
	reg.MustRegister(incidentMetrics{svc: incidents, log: log})
	var ret *retention.Service
	var job *retentionJob
	if len(stores) > 0 {
		at, on, _ := cfg.RetentionTime()
		job = newRetentionJob(at, on, reg, log)
		opt := retention.Options{Observe: job.observe, Datastores: stores, Policy: policyOf(svc), Holds: holds, Instance: hostname(), Logger: log, Now: now,
			Signer: keys.Certificates, Org: orgLabel(cfg.Org),
			HMACKey: deriveKey(keys.AuditKey, "custos erasure hmac v1"), Salt: deriveKey(keys.AuditKey, "custos erasure hash salt v1")}
		if requests != nil {
			opt.Seeds = requests.Seeds
		}
		ret = retention.New(st, opt)
		job.svc = ret
	}
	a := api.New(api.Options{Service: svc, Requests: requests, Vault: vlt, Keys: apiKeys, Trail: trail, Health: st, Orgs: registry,
		Holds: holds, Retention: ret, Transfers: transfers, Incidents: incidents,
		Signer: keys.Signer, Logger: log, Registry: reg, MaxBodyBytes: cfg.MaxBodyBytes, TrustProxy: cfg.TrustProxy, BannerOrigins: cfg.BannerOrigins})
	s := &Server{cfg: cfg, log: log, st: st, ks: ks, svc: svc, api: a, requests: requests, dispatcher: dispatcher, start: time.Now(), ownsStore: shared == nil, registry: registry, changed: make(chan struct{}, 1), now: now}
	s.checkpoints, s.trail, s.dataset, s.holds = checkpoints, trail, annotation, holds
	s.certificates = keys.Certificates
	s.retention = newVaultRetention(vlt, reg)
	s.retentionJob = job
	s.transfers, s.unhookTransfers = transfers, unhookTransfers
	s.incidents = incidents
	s.passwords = o.passwords
	s.datastores = stores
	if requests != nil {
		if cfg.WebhookSecret.IsSet() {
			s.propagator = &propagate.Propagator{Store: st, Secret: cfg.WebhookSecret.Reveal(), AckKey: ackKey(keys.AuditKey), Logger: log, BaseURL: publicURL(ctx, cfg, st),
				Recipients: func(id string) (string, string, bool) {
					_, m, _, err := svc.Policy()
					if err != nil {
						return "", "", false
					}
					r, ok := m.Recipient(id)
					return r.Endpoint, r.NoticeEmail, ok
				},
				SubjectOf: func(ctx context.Context, requestID string) (string, error) {
					r, err := st.Request(ctx, requestID)
					return r.SubjectID, err
				},
				CertificatesOf: func(ctx context.Context, requestID string) ([]string, error) {
					cs, err := st.Certificates(ctx, store.CertificateFilter{Request: requestID})
					ids := make([]string, len(cs))
					for i, c := range cs {
						ids[len(cs)-1-i] = c.ID // oldest first, as the request lists them
					}
					return ids, err
				}}
			// Recipients without an endpoint get the notice by email,
			// through the same outbox as messages to subjects.
			p := s.propagator
			s.propagator.Email = func(ctx context.Context, recipient, email string, t store.RecipientTask) error {
				r, err := st.Request(ctx, t.RequestID)
				if err != nil {
					return err
				}
				lang := "zh-CN"
				if _, m, _, err := svc.Policy(); err == nil {
					lang = m.DefaultLanguage()
				}
				d, err := notify.NewDelivery(ctx, ks, notify.ChannelEmail, email, "recipient_notice", lang, p.NoticeFields(t, r.SubjectID))
				if err != nil {
					return err
				}
				d.Request = t.RequestID
				return st.Outbox().Enqueue(ctx, d)
			}
		} else {
			log.Warn("no webhook secret: notices to recipients and portability transmissions are tracked but not sent (set CUSTOS_WEBHOOK_SECRET_FILE)")
		}
	}
	if cfg.Demo {
		if err := s.seedDemo(ctx, demo, clock, freshHistory, apiKeys, system); err != nil {
			release()
			return nil, err
		}
	}
	if s.routing, err = s.routes(keys); err != nil {
		release()
		return nil, err
	}
	s.http = &http.Server{
		Handler:           s.routing.own(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Handler returns the server's HTTP handler (for tests and benchmarks).
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Store returns the server's store.
func (s *Server) Store() *store.Store { return s.st }

// Service returns the consent service.
func (s *Server) Service() *consent.Service { return s.svc }

// DemoKey returns the demo admin key, in demo mode.
func (s *Server) DemoKey() string {
	if s.demo == nil {
		return ""
	}
	return s.demo.AdminKey
}

// Demo returns what demo mode set up; nil outside demo mode.
func (s *Server) Demo() *Demo { return s.demo }

// Serve listens on the configured address until ctx ends or SIGINT/SIGTERM
// arrives, then stops taking requests, lets those in flight finish within
// the shutdown timeout and flushes the store. SIGHUP re-reads and
// publishes the manifest.
func (s *Server) Serve(ctx context.Context, ready func(addr string)) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	s.run(ctx)
	s.runOrganisations(ctx)
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String(), "db", s.st.Dialect(), "organisations", 1+len(s.served()))
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	s.stopOrganisations()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err = s.http.Shutdown(sctx)
	// The background work ends before what it writes to is closed: a
	// message half written to the notice directory, or a sweep's last
	// batch, is finished, not cut off.
	if !s.waitLoops(time.Until(deadline(sctx))) {
		s.log.Warn("background work did not end within the shutdown timeout")
	}
	// One-time codes are sent behind the answer: those still queued go
	// out before the last checkpoint.
	s.closeCodes()
	// The people counted from decisions and consents wait in memory for a
	// moment: they are written before the store closes.
	s.closeTransfers()
	s.finalCheckpoint()
	for _, o := range s.served() {
		o.finalCheckpoint()
	}
	// Closing the store drains the write queue: everything accepted lands.
	return errors.Join(err, s.st.Close())
}

// waitLoops waits up to d for the background work run started to end,
// and says whether it did.
func (s *Server) waitLoops(d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		s.loops.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// deadline is ctx's deadline, or now when it has none.
func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now()
}

// run starts the organisation's background work: the change feed, the
// sweeps, the dispatcher, the propagator and the checkpoints.
func (s *Server) run(ctx context.Context) {
	loop := func(fn func(context.Context)) {
		s.loops.Add(1)
		go func() {
			defer s.loops.Done()
			fn(ctx)
		}()
	}
	// The change feed has no ticker of its own: the deployment asks for
	// every organisation's last change at once (followChanges) and wakes
	// the feeds behind it; on PostgreSQL other instances' notifications
	// wake it too.
	listen := s.st.Listen(ctx)
	loop(func(ctx context.Context) {
		for {
			select {
			case <-ctx.Done():
				return
			case <-listen:
				s.wakeChanges()
			}
		}
	})
	loop(func(ctx context.Context) { s.svc.Run(ctx, 0, s.changed) })
	if s.registry != nil {
		loop(s.followChanges)
	}
	loop(s.reloadOnHangup)
	loop(s.sweepSessions)
	if s.dispatcher != nil {
		loop(func(ctx context.Context) { s.dispatcher.Run(ctx, 2*time.Second) })
		loop(s.runDue)
		loop(s.sendChangeNotices)
		loop(s.purgeOutbox)
		loop(s.expireVault)
	}
	if s.propagator != nil {
		loop(func(ctx context.Context) { s.propagator.Run(ctx, time.Minute) })
		loop(s.transmit)
	}
	if s.checkpoints != nil {
		loop(func(ctx context.Context) { s.checkpoints.Run(ctx, s.cfg.CheckpointEvery, s.log) })
	}
	if p, err := s.cfg.AuditPeriod(); err == nil && !p.Forever {
		loop(s.cutTrail)
	}
	if s.retentionJob != nil && s.retentionJob.scheduled {
		loop(s.sweepRetention)
	}
	if s.dispatcher != nil {
		loop(s.escalateIncidents)
	}
	if s.registry != nil {
		loop(s.watchOrganisations)
	}
}

func (s *Server) reloadOnHangup(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if s.cfg.Manifest == "" {
			continue
		}
		source, err := os.ReadFile(s.cfg.Manifest)
		if err == nil {
			var p consent.Published
			p, err = s.svc.Publish(ctx, audit.System(hostname()), s.cfg.Manifest, source)
			if err == nil {
				s.log.Info("manifest reloaded", "version", p.Version, "created", p.Created, "material", p.Material)
				continue
			}
		}
		s.log.Error("manifest reload failed; the version in force stays", "err", err)
	}
}

// purgeOutbox destroys the contents of messages sent or given up longer
// than the outbox retention ago, deletes the export bundles past their
// download window and the records of requests closed longer than the
// request retention ago, at start and then hourly.
func (s *Server) purgeOutbox(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.PurgeOutbox(ctx); err != nil {
			s.log.Error("outbox purge failed", "err", err)
		} else if n > 0 {
			s.log.Info("outbox purged", "messages", n, "retention", s.cfg.OutboxRetention)
		}
		if n, err := s.requests.PurgeBundles(ctx, audit.System(hostname())); err != nil {
			s.log.Error("expired export bundles: purge failed", "err", err)
		} else if n > 0 {
			s.log.Info("expired export bundles deleted", "count", n)
		}
		if n, err := s.ExpireRequests(ctx); err != nil {
			s.log.Error("closed requests past their retention: delete failed", "deleted", n, "err", err)
		} else if n > 0 {
			s.log.Info("closed requests past their retention deleted", "count", n, "retention", s.cfg.RequestRetention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ExpireRequests deletes the records of requests closed longer than the
// request retention ago (dsr.Service.ExpireRequests) and returns how many.
func (s *Server) ExpireRequests(ctx context.Context) (int64, error) {
	period, err := s.cfg.RequestPeriod()
	if err != nil {
		return 0, err
	}
	return s.requests.ExpireRequests(ctx, audit.System(hostname()), period)
}

// PurgeOutbox destroys the contents of the messages settled longer than the
// outbox retention ago (notify.Purge) and returns how many.
func (s *Server) PurgeOutbox(ctx context.Context) (int, error) {
	if s.ks == nil {
		return 0, nil
	}
	return notify.Purge(ctx, s.st.Outbox(), s.ks, time.Now().Add(-s.cfg.OutboxRetention))
}

// Keystore returns the key store of the per-owner keys; nil without a data
// keyset.
func (s *Server) Keystore() *keystore.Store { return s.ks }

// runDue carries out account cancellations whose cooling-off period ended.
func (s *Server) runDue(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.requests.RunDue(ctx); err != nil {
				s.log.Error("scheduled cancellations failed", "err", err)
			} else if n > 0 {
				s.log.Info("scheduled cancellations carried out", "count", n)
			}
		}
	}
}

// transmit sends portability exports to the third parties people named,
// at start and every minute after (dsr.Service.Transmit); a full batch is
// followed at once by another pass.
func (s *Server) transmit(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		for {
			n, err := s.requests.Transmit(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Error("portability transmissions: pass failed", "err", err)
			} else if n != (dsr.TransmitCounts{}) {
				s.log.Info("portability transmissions", "delivered", n.Delivered, "retrying", n.Retrying, "failed", n.Failed)
			}
			if err != nil || n.Delivered+n.Retrying+n.Failed < dsr.TransmitBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sendChangeNotices queues the notices of material policy changes, at
// start and every minute after: a publication on any instance, or a run
// cut short, is picked up here.
func (s *Server) sendChangeNotices(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if n, err := s.svc.SendChangeNotices(ctx, nil); err != nil && ctx.Err() == nil {
			s.log.Error("queuing policy change notices failed", "err", err)
		} else if n > 0 {
			s.log.Info("policy change notices queued", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepSessions deletes console sessions that have ended, every few
// minutes: an ended session is refused when used, but one never used
// again would otherwise stay in the table.
func (s *Server) sweepSessions(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := time.Now()
			if n, err := s.st.DeleteExpiredSessions(ctx, now, now.Add(-operator.DefaultIdle)); err != nil {
				s.log.Error("sweeping console sessions failed", "err", err)
			} else if n > 0 {
				s.log.Info("ended console sessions removed", "count", n)
			}
		}
	}
}

// Close closes the store, once the one-time codes still queued are in the
// outbox.
func (s *Server) Close() error {
	s.stopOrganisations()
	s.closeCodes()
	s.closeTransfers()
	if !s.ownsStore {
		return nil
	}
	return s.st.Close()
}

// closeTransfers writes the people counted in memory, this
// organisation's and the others', and stops counting.
func (s *Server) closeTransfers() {
	if s.transfers != nil {
		s.unhookTransfers()
		if err := s.transfers.Close(); err != nil {
			s.log.Error("transfer counts not written at shutdown", "err", err)
		}
	}
	for _, o := range s.served() {
		o.closeTransfers()
	}
}

// Transfers returns the counts of cross-border transfers (nil without an audit key).
func (s *Server) Transfers() *transfer.Service { return s.transfers }

// closeCodes waits until the one-time codes queued behind answers, this
// organisation's and the others', are in the outbox, and ends their
// workers; a code asked for later is sent before its answer.
func (s *Server) closeCodes() {
	if s.requests != nil {
		s.requests.Close()
	}
	for _, o := range s.served() {
		o.closeCodes()
	}
}

func hostname() string {
	h, _ := os.Hostname()
	return "host " + h
}

// Services are the domain services a command acts through without
// serving (custos requests …, custos vault expire, …).
type Services struct {
	Store    *store.Store
	Keystore *keystore.Store
	Consent  *consent.Service
	Requests *dsr.Service
	Vault    *vault.Service
	// Retention sweeps the dataset's databases; nil without a dataset.
	Retention *retention.Service
	// Transfers reads the register and counts of cross-border transfers.
	Transfers *transfer.Service
	// Incidents keeps security incidents.
	Incidents *incident.Service

	datastores []execute.Store
}

// Close closes the store and, after its writes, the key store, and the
// connections to the dataset's databases.
func (s *Services) Close() error {
	var err error
	if s.Transfers != nil {
		err = s.Transfers.Close()
	}
	err = errors.Join(err, s.Store.Close())
	for _, d := range s.datastores {
		err = errors.Join(err, d.DB.Close())
	}
	return err
}

// OpenServices opens the store with the consent, request and vault
// services. It needs the data keyset.
func OpenServices(ctx context.Context, cfg config.Config, log *slog.Logger) (*Services, error) {
	keys, err := LoadKeys(cfg)
	if err != nil {
		return nil, err
	}
	if keys.Sealer == nil {
		return nil, errors.New("rights requests need the data keyset: set CUSTOS_DATA_KEYSET_FILE or --secrets-dir")
	}
	st, err := OpenStore(ctx, cfg, keys, false, log)
	if err != nil {
		return nil, err
	}
	s := &Services{Store: st}
	fail := func(err error) (*Services, error) {
		if s.Transfers != nil {
			s.Transfers.Close()
		}
		st.Close()
		return nil, err
	}
	if s.Keystore, err = OpenKeystore(ctx, cfg, keys, st); err != nil {
		return fail(err)
	}
	if s.Consent, err = consent.New(ctx, st, consent.Options{Hasher: keys.Hasher, Keys: s.Keystore, Signer: keys.Signer, Logger: log}); err != nil {
		return fail(err)
	}
	// Exports completed from the command line carry vault values too.
	if s.Vault, err = vault.New(st, s.Consent, vault.Options{Keys: s.Keystore, TokenKey: keys.VaultKey, RotatedTokenKeys: keys.VaultRotatedKeys}); err != nil {
		return fail(err)
	}
	if s.Requests, err = dsr.New(st, s.Consent, dsr.Options{Hasher: keys.Hasher, Keys: s.Keystore, Logger: log, Vault: s.Vault,
		Certificates: keys.Certificates, Instance: hostname(), TransmitSecret: cfg.WebhookSecret.Reveal(), AckKey: ackKey(keys.AuditKey), PriorAckKeys: priorAckKeys(keys), PublicURL: publicURL(ctx, cfg, st)}); err != nil {
		return fail(err)
	}
	if s.Transfers, _, err = openTransfers(st, s.Consent, keys, s.Keystore, nil, log, time.Now, false); err != nil {
		return fail(err)
	}
	if cfg.Dataset != "" {
		if _, s.datastores, err = openDatasetStores(ctx, cfg.Dataset); err != nil {
			return fail(err)
		}
		s.Retention = retention.New(st, retention.Options{Datastores: s.datastores, Policy: policyOf(s.Consent),
			Holds: hold.New(st, hold.Options{Logger: log}), Seeds: s.Requests.Seeds, Instance: hostname(), Logger: log,
			Signer: keys.Certificates, Org: orgLabel(cfg.Org),
			HMACKey: deriveKey(keys.AuditKey, "custos erasure hmac v1"), Salt: deriveKey(keys.AuditKey, "custos erasure hash salt v1")})
	}
	s.Incidents = incident.New(st, incident.Options{Logger: log, Policy: policyOf(s.Consent), Datastores: s.datastores, Hasher: keys.Hasher,
		Identities: s.Consent, Sealer: s.Keystore})
	return s, nil
}

// openDatastores carries access and deletion requests into the
// organisation's databases.
func openDatastores(stores []execute.Store, requests *dsr.Service, keys Keys) *dsr.Datastores {
	ex := &dsr.Datastores{Seeds: requests.Seeds,
		HMACKey: deriveKey(keys.AuditKey, "custos erasure hmac v1"), Salt: deriveKey(keys.AuditKey, "custos erasure hash salt v1")}
	for _, s := range stores {
		ex.Stores = append(ex.Stores, dsr.Datastore{Annotation: s.DS, DB: s.DB, Kind: s.Kind})
	}
	return ex
}

// Propagator returns the recipients' notice sender (nil without a webhook secret).
func (s *Server) Propagator() *propagate.Propagator { return s.propagator }
