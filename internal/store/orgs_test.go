package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/notify"
)

// world names one organisation's objects. What a person or a manifest
// chooses (subject ids, identities, version labels, user names) may be the
// same in two organisations; what Custos generates (ids of requests, keys,
// operators) is unique in the deployment.
type world struct {
	subject, identity, version, username string // chosen
	tag                                  string // suffix of the generated ids
}

func (w world) id(kind string) string { return kind + "_" + w.tag }

// populate gives h one of everything an organisation keeps.
func populate(t *testing.T, h *Store, w world) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", h.Org(), err)
		}
	}
	must(h.CreateSubject(ctx, Subject{ID: w.subject, Identities: []Identity{{Kind: "email", Hash: []byte(w.identity), Sealed: []byte("sealed")}}},
		entry("subject.create", "subject:"+w.subject)))
	must(h.CreateSubject(ctx, Subject{ID: w.subject + "-child", GuardianID: w.subject}))
	_, _, err := h.PublishPolicy(ctx, PolicyVersion{Version: w.version, SHA256: "sha-" + h.Org(), Manifest: "m", Diff: "{}"}, 0)
	must(err)
	ev := consent(w.id("ev"), w.subject, "marketing", ActionGrant, 1)
	must(h.AppendConsents(ctx, []ConsentEvent{ev}, []audit.Entry{entry("consent.grant", "subject:"+w.subject)}))
	r := request(w.id("rq"), w.subject, "verified")
	d := notify.Delivery{ID: w.id("dl"), Channel: "email", Sealed: []byte("to"), Template: "otp", Lang: "en",
		NextAt: now.Add(-time.Second), Status: "pending", Subject: w.subject, Request: r.ID}
	otp := OTP{RequestID: r.ID, IdentityHash: []byte(w.identity), CodeHash: []byte("c"), ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	b := Bundle{ID: w.id("bd"), RequestID: r.ID, SubjectID: w.subject, Sealed: []byte("zip"), TokenHash: []byte(w.id("token")), ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	task := RecipientTask{ID: w.id("rt"), RequestID: r.ID, Recipient: "crm", Action: "deletion", Method: "webhook", Categories: []string{"contact"}, State: "pending", NextAt: now.Add(-time.Second), UpdatedAt: now}
	must(h.CreateRequest(ctx, r, RequestEvent{RequestID: r.ID, At: now, Actor: "t", To: r.State},
		[]TxFn{h.PutOTPFn(otp), h.OutboxFn(d), h.PutBundleFn(b), h.RecipientTaskFn(task),
			h.PutTransmissionFn(Transmission{ID: w.id("tx"), RequestID: r.ID, SubjectID: w.subject, Recipient: "Acme", Host: "acme.example", Sealed: []byte("export"),
				State: "pending", NextAt: now.Add(-time.Second), CreatedAt: now, UpdatedAt: now}),
			h.AssistanceTaskFn(AssistanceTask{ID: w.id("as"), Entrustment: "en-1", Controller: "other", ControllerRequest: "rq_other", RequestID: r.ID, Kind: "access", DueDate: "2026-01-09", State: AssistanceOpen, CreatedAt: now})}))
	must(h.CreateOperator(ctx, Operator{ID: w.id("op"), Username: w.username, DisplayName: "Admin", Role: "admin", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}))
	must(h.StartSession(ctx, Session{TokenHash: []byte(w.id("session")), OperatorID: w.id("op"), CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)}, SessionGuard{}))
	must(h.CreateKey(ctx, APIKey{ID: w.id("key"), Name: "k", Role: "admin", Hash: []byte(w.id("keyhash")), CreatedAt: now}))
	must(h.CreateApproval(ctx, Approval{ID: w.id("ap"), Kind: ApprovalBatchExport, Params: `{}`, Reason: "r", RequestedBy: w.id("op"), CreatedAt: now}))
	must(h.PutVault(ctx, VaultValue{SubjectID: w.subject, Field: "phone", Sealed: []byte("v"), Token: "tok", UpdatedAt: now}))
	must(h.PutSignin(ctx, Signin{ID: w.id("si"), SubjectID: w.subject, CodeHash: []byte("c"), ExpiresAt: now.Add(time.Hour), CreatedAt: now}))
	must(h.StartRetentionRun(ctx, RetentionRun{ID: w.id("rr"), Instance: "t", StartedAt: now, LeaseUntil: now.Add(time.Hour)}))
	must(h.CreateLegalHold(ctx, LegalHold{ID: w.id("hl"), SubjectID: w.subject, Reason: "r", Authority: "a", PlacedBy: w.id("op"), PlacedAt: now}))
	must(h.PutCertificate(ctx, signedCertificate(t, w.id("cert"), r.ID, now)))
	_, err = h.RecordTransfers(ctx, []TransferPerson{{Year: 2026, Flow: "sg-relay", Person: "hash-" + w.subject, Ordinary: true, Source: "api", At: now}})
	must(err)
	_, err = h.RecordTransferAlert(ctx, TransferAlert{Year: 2026, Level: "standard_contract", Kind: "projected", People: 1, At: now})
	must(err)
	must(h.CreateIncident(ctx, IncidentRow{ID: w.id("in"), State: "open", DiscoveredAt: now, Record: `{}`, CreatedAt: now, UpdatedAt: now}))
	must(h.AddIncidentSubjects(ctx, w.id("in"), []string{w.subject}))
	must(h.RecordIncidentEscalation(ctx, w.id("in"), IncidentEscalation{Clock: "cn_regulator", Stage: "warning", SentAt: now}, nil))
	// A start recorded at the first entry: the trail is whole, and has one.
	first, err := h.AuditEntries(ctx, AuditFilter{Limit: 1})
	must(err)
	_, err = h.CutAudit(ctx, audit.Chain{Seq: first[0].Seq, Hash: first[0].Hash}, 10, now, nil)
	must(err)
}

// probes are every way of reaching an organisation's objects through the
// store: each reports whether it found w's object through h.
var probes = []struct {
	name string
	find func(ctx context.Context, h *Store, w world) (bool, error)
}{
	{"subject by id", func(ctx context.Context, h *Store, w world) (bool, error) { return found(h.Subject(ctx, w.subject)) }},
	{"subject by identity", func(ctx context.Context, h *Store, w world) (bool, error) {
		return found(h.SubjectByIdentity(ctx, []byte(w.identity)))
	}},
	{"subject state", func(ctx context.Context, h *Store, w world) (bool, error) {
		_, st, err := h.SubjectState(ctx, w.subject)
		return len(st) > 0, notFoundOK(err)
	}},
	{"wards", func(ctx context.Context, h *Store, w world) (bool, error) { return some(h.Wards(ctx, w.subject)) }},
	{"audit start", func(ctx context.Context, h *Store, w world) (bool, error) {
		_, ok, err := h.AuditStart(ctx)
		return ok, err
	}},
	{"consent events", func(ctx context.Context, h *Store, w world) (bool, error) {
		return some(h.ConsentEvents(ctx, w.subject, 0, 10))
	}},
	{"consent event by id", func(ctx context.Context, h *Store, w world) (bool, error) {
		return found(h.ConsentEventByID(ctx, w.id("ev")))
	}},
	{"consent rates", func(ctx context.Context, h *Store, w world) (bool, error) { return some(h.ConsentRates(ctx)) }},
	{"policy version", func(ctx context.Context, h *Store, w world) (bool, error) {
		pv, err := h.PolicyVersion(ctx, w.version)
		return err == nil && pv.SHA256 == "sha-"+w.tag, notFoundOK(err)
	}},
	{"request", func(ctx context.Context, h *Store, w world) (bool, error) { return found(h.Request(ctx, w.id("rq"))) }},
	{"request events", func(ctx context.Context, h *Store, w world) (bool, error) {
		return some(h.RequestEvents(ctx, w.id("rq")))
	}},
	{"requests by subject", func(ctx context.Context, h *Store, w world) (bool, error) {
		return some(h.Requests(ctx, RequestFilter{SubjectID: w.subject}))
	}},
	{"request counts", func(ctx context.Context, h *Store, w world) (bool, error) {
		c, err := h.RequestCounts(ctx, []string{"verified"})
		return len(c.ByState) > 0, err
	}},
	{"code", func(ctx context.Context, h *Store, w world) (bool, error) { return found(h.OTP(ctx, w.id("rq"))) }},
	{"outbox due", func(ctx context.Context, h *Store, w world) (bool, error) {
		return some(h.Outbox().Due(ctx, time.Now(), 10))
	}},
	{"deliveries", func(ctx context.Context, h *Store, w world) (bool, error) { return some(h.Deliveries(ctx, w.id("rq"))) }},
	{"export by download token", func(ctx context.Context, h *Store, w world) (bool, error) {
		return found(h.BundleByToken(ctx, []byte(w.id("token"))))
	}},
	{"latest export", func(ctx context.Context, h *Store, w world) (bool, error) {
		return found(h.LatestBundle(ctx, w.id("rq")))
	}},
	{"recipient tasks", func(ctx context.Context, h *Store, w world) (bool, error) {
		return some(h.RecipientTasks(ctx, w.id("rq")))
	}},
	{"recipient task by id", func(ctx context.Context, h *Store, w world) (bool, error) {
		return found(h.RecipientTask(ctx, w.id("rt")))
	}},
	{"recipient tasks due", func(ctx context.Context, h *Store, w world) (bool, error) {
		return some(h.DueRecipientTasks(ctx, time.Now(), 10))
	}},
	{"transmissions", func(ctx context.Context, h *Store, w world) (bool, error) {
		return some(h.Transmissions(ctx, w.id("rq")))
	}},
	{"transmissions due", func(ctx context.Context, h *Store, w world) (bool, error) {
		ts, err := h.DueTransmissions(ctx, time.Now(), 10)
		return slices.ContainsFunc(ts, func(t Transmission) bool { return t.ID == w.id("tx") }), err
	}},
	{"retention runs", func(ctx context.Context, h *Store, w world) (bool, error) {
		rs, err := h.RetentionRuns(ctx, 10)
		return slices.ContainsFunc(rs, func(r RetentionRun) bool { return r.ID == w.id("rr") }), err
	}},
	{"assistance tasks", func(ctx context.Context, h *Store, w world) (bool, error) {
		ts, err := h.AssistanceTasks(ctx, AssistanceOpen)
		return slices.ContainsFunc(ts, func(t AssistanceTask) bool { return t.ID == w.id("as") }), err
	}},
	{"operator by user name", func(ctx context.Context, h *Store, w world) (bool, error) {
		o, err := h.OperatorByUsername(ctx, w.username)
		return err == nil && o.ID == w.id("op"), notFoundOK(err)
	}},
	{"operator", func(ctx context.Context, h *Store, w world) (bool, error) { return found(h.Operator(ctx, w.id("op"))) }},
	{"operators", func(ctx context.Context, h *Store, w world) (bool, error) { return some(h.Operators(ctx)) }},
	{"session", func(ctx context.Context, h *Store, w world) (bool, error) {
		return found(h.SessionByHash(ctx, []byte(w.id("session"))))
	}},
	{"API key by hash", func(ctx context.Context, h *Store, w world) (bool, error) {
		return found(h.KeyByHash(ctx, []byte(w.id("keyhash"))))
	}},
	{"API keys", func(ctx context.Context, h *Store, w world) (bool, error) { return some(h.Keys(ctx)) }},
	{"approval", func(ctx context.Context, h *Store, w world) (bool, error) { return found(h.Approval(ctx, w.id("ap"))) }},
	{"approvals", func(ctx context.Context, h *Store, w world) (bool, error) { return some(h.Approvals(ctx, 10)) }},
	{"legal hold", func(ctx context.Context, h *Store, w world) (bool, error) { return found(h.LegalHold(ctx, w.id("hl"))) }},
	{"legal holds", func(ctx context.Context, h *Store, w world) (bool, error) {
		hs, err := h.LegalHolds(ctx, HoldFilter{ActiveAt: time.Now(), Subject: w.subject})
		return slices.ContainsFunc(hs, func(l LegalHold) bool { return l.ID == w.id("hl") }), err
	}},
	{"transfer counts", func(ctx context.Context, h *Store, w world) (bool, error) {
		cs, err := h.TransferCounts(ctx, 2026)
		return len(cs) > 0, err
	}},
	{"transfer total", func(ctx context.Context, h *Store, w world) (bool, error) {
		c, err := h.TransferTotal(ctx, 2026)
		return c.People > 0, err
	}},
	{"transfer alerts", func(ctx context.Context, h *Store, w world) (bool, error) {
		as, err := h.TransferAlerts(ctx, 2026)
		return len(as) > 0, err
	}},
	{"incident", func(ctx context.Context, h *Store, w world) (bool, error) { return found(h.Incident(ctx, w.id("in"))) }},
	{"incidents", func(ctx context.Context, h *Store, w world) (bool, error) {
		is, err := h.Incidents(ctx, IncidentFilter{Open: true})
		return slices.ContainsFunc(is, func(r IncidentRow) bool { return r.ID == w.id("in") }), err
	}},
	{"incident subjects", func(ctx context.Context, h *Store, w world) (bool, error) {
		return some(h.IncidentSubjects(ctx, w.id("in"), "", false, 10))
	}},
	{"incident subject count", func(ctx context.Context, h *Store, w world) (bool, error) {
		n, err := h.CountIncidentSubjects(ctx, w.id("in"))
		return n > 0, err
	}},
	{"incident deliveries", func(ctx context.Context, h *Store, w world) (bool, error) {
		dl, err := h.IncidentDeliveries(ctx, w.id("in"))
		return len(dl) > 0, err
	}},
	{"incident escalations", func(ctx context.Context, h *Store, w world) (bool, error) {
		return some(h.IncidentEscalations(ctx, w.id("in")))
	}},
	{"vault subjects", func(ctx context.Context, h *Store, w world) (bool, error) {
		n := 0
		err := h.VaultSubjects(ctx, "phone", time.Time{}, time.Time{}, func(id string) error {
			if id == w.subject {
				n++
			}
			return nil
		})
		return n > 0, err
	}},
	{"vault value", func(ctx context.Context, h *Store, w world) (bool, error) {
		return found(h.VaultValue(ctx, w.subject, "phone"))
	}},
	{"vault values", func(ctx context.Context, h *Store, w world) (bool, error) {
		vs, err := h.VaultValues(ctx, w.subject)
		return len(vs) > 0, notFoundOK(err)
	}},
	{"certificate", func(ctx context.Context, h *Store, w world) (bool, error) {
		return found(h.Certificate(ctx, w.id("cert")))
	}},
	{"certificates of a request", func(ctx context.Context, h *Store, w world) (bool, error) {
		return some(h.Certificates(ctx, CertificateFilter{Request: w.id("rq")}))
	}},
	{"certificates", func(ctx context.Context, h *Store, w world) (bool, error) {
		return some(h.Certificates(ctx, CertificateFilter{}))
	}},
	{"center sign-in", func(ctx context.Context, h *Store, w world) (bool, error) {
		return found(h.SigninAttempt(ctx, w.id("si")))
	}},
	{"notice targets", func(ctx context.Context, h *Store, w world) (bool, error) {
		return some(h.NoticeTargets(ctx, "", 10, nil))
	}},
	{"audit entries", func(ctx context.Context, h *Store, w world) (bool, error) {
		es, err := h.AuditEntries(ctx, AuditFilter{})
		for _, e := range es {
			if e.Object == "subject:"+w.subject {
				return true, err
			}
		}
		return false, err
	}},
	{"changes", func(ctx context.Context, h *Store, w world) (bool, error) {
		cs, _, err := h.ChangesSince(ctx, 0, 100)
		return len(cs) > 0, err
	}},
	{"sealed values", func(ctx context.Context, h *Store, w world) (bool, error) {
		n := 0
		err := h.SealedValues(ctx, func(Sealed) error { n++; return nil })
		return n > 0, err
	}},
}

func found[T any](_ T, err error) (bool, error) { return err == nil, notFoundOK(err) }

func some[T any](xs []T, err error) (bool, error) { return len(xs) > 0, notFoundOK(err) }

func notFoundOK(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// TestOrganisationsIsolated: two organisations with the same subject ids,
// identities, version labels and user names each see their own objects
// and nothing of the other's, by every probe; writes aimed at the other's
// objects find nothing; each chain verifies on its own.
func TestOrganisationsIsolated(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "acme", Name: "Acme"}, entry("org.create", "org:acme")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "empty", Name: "Nobody yet"}); err != nil {
			t.Fatal(err)
		}
		a, b, empty := s, s.ForOrg("acme"), s.ForOrg("empty")
		wa := world{subject: "u-1", identity: "h-1", version: "1.0", username: "admin", tag: DefaultOrg}
		wb := world{subject: "u-1", identity: "h-1", version: "1.0", username: "admin", tag: "acme"}
		populate(t, a, wa)
		populate(t, b, wb)
		// Each organisation's own generated ids, seen from the other.
		for _, p := range probes {
			t.Run(p.name, func(t *testing.T) {
				for _, c := range []struct {
					h    *Store
					w    world
					want bool
				}{{a, wa, true}, {b, wb, true}, {b, wa, false}, {a, wb, false}, {empty, wa, false}, {empty, wb, false}} {
					got, err := p.find(ctx, c.h, c.w)
					if err != nil {
						t.Fatalf("%s reaching for %s's: %v", c.h.Org(), c.w.tag, err)
					}
					// Chosen ids are shared, so a probe by a chosen id finds
					// the organisation's own object: only the generated ids
					// and the empty organisation tell.
					if c.want != got && (c.h.Org() == "empty" || !sharedKey[p.name]) {
						t.Errorf("%s reaching for %s's: found %v, want %v", c.h.Org(), c.w.tag, got, c.want)
					}
				}
			})
		}

		// Writes aimed at the other organisation's objects find nothing.
		yes := true
		if err := empty.UpdateSubject(ctx, "u-1", SubjectPatch{Restricted: &yes}); !errors.Is(err, ErrNotFound) {
			t.Errorf("update of another organisation's subject: %v, want ErrNotFound", err)
		}
		if err := b.RevokeKey(ctx, wa.id("key")); !errors.Is(err, ErrNotFound) {
			t.Errorf("revoking another organisation's key: %v, want ErrNotFound", err)
		}
		if err := b.AckRecipientTask(ctx, wa.id("rq"), "crm", "key", time.Now()); !errors.Is(err, ErrNotFound) {
			t.Errorf("acknowledging another organisation's recipient task: %v, want ErrNotFound", err)
		}
		if err := b.Submit(ctx, &Write{Fn: b.MarkTransmissionFn(TransmissionMark{ID: wa.id("tx"), State: "failed", At: time.Now()})}); !errors.Is(err, ErrSettled) {
			t.Errorf("settling another organisation's transmission: %v, want ErrSettled", err)
		}
		if err := b.Submit(ctx, &Write{Fn: b.RetryTransmissionFn(wa.id("tx"), time.Now())}); !errors.Is(err, ErrSettled) {
			t.Errorf("retrying another organisation's transmission: %v, want ErrSettled", err)
		}
		if err := b.AckRecipientTaskByID(ctx, wa.id("rt"), "recipient:crm", time.Now()); !errors.Is(err, ErrNotFound) {
			t.Errorf("acknowledging another organisation's recipient task by id: %v, want ErrNotFound", err)
		}
		if err := b.DecideApproval(ctx, wa.id("ap"), wb.id("op"), true, "", time.Now()); !errors.Is(err, ErrNotFound) {
			t.Errorf("deciding another organisation's approval: %v, want ErrNotFound", err)
		}
		got, err := a.Request(ctx, wa.id("rq"))
		if err != nil {
			t.Fatal(err)
		}
		got.State = "cancelled"
		if err := b.UpdateRequest(ctx, &got, RequestEvent{RequestID: got.ID, At: time.Now(), Actor: "t", To: "cancelled"}, nil); err == nil {
			t.Error("updating another organisation's request succeeded")
		}
		// Erasing u-1 in acme leaves the default organisation's u-1 whole.
		if err := b.Submit(ctx, &Write{Fn: b.EraseSubjectFn("u-1", noShred)}); err != nil {
			t.Fatal(err)
		}
		if sub, err := a.Subject(ctx, "u-1"); err != nil || len(sub.Identities) != 1 {
			t.Errorf("the other organisation's subject after an erasure: %+v, %v", sub, err)
		}
		if _, err := a.VaultValue(ctx, "u-1", "phone"); err != nil {
			t.Errorf("the other organisation's vault after an erasure: %v", err)
		}

		// Each trail and ledger is a chain of its own, from its start.
		for _, h := range []*Store{a, b, empty} {
			rep, err := h.VerifyAudit(ctx, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK {
				t.Errorf("%s: verification: %+v", h.Org(), rep.Problems)
			}
			head, err := h.AuditHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			entries, _ := h.AuditEntries(ctx, AuditFilter{})
			if int(head.Seq) != len(entries) || (len(entries) > 0 && entries[0].Seq != 1) {
				t.Errorf("%s: head at %d over %d entries", h.Org(), head.Seq, len(entries))
			}
		}
	})
}

// sharedKey are the probes that look up by what both organisations chose
// alike, or list: what they find through either organisation is its own,
// so only the empty organisation tells there.
var sharedKey = map[string]bool{
	"subject by id": true, "subject by identity": true, "audit start": true, "subject state": true, "wards": true, "consent events": true,
	"consent rates": true, "requests by subject": true, "request counts": true, "outbox due": true, "recipient tasks due": true,
	"operators": true, "API keys": true, "approvals": true, "vault value": true, "vault values": true, "vault subjects": true,
	"notice targets": true, "audit entries": true, "certificates": true, "changes": true, "sealed values": true,
	"transfer counts": true, "transfer total": true, "transfer alerts": true,
}

func TestOrganisationRegistry(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		orgs, err := s.Organisations(ctx)
		if err != nil || len(orgs) != 1 || orgs[0].ID != DefaultOrg || orgs[0].Status != OrgActive || len(orgs[0].Hosts) != 0 {
			t.Fatalf("a new database's organisations = %+v, %v", orgs, err)
		}
		defer func() {
			orgs, err := s.Organisations(ctx)
			if err != nil || len(orgs) != 3 || strings.Join(orgs[1].Hosts, ",") != "privacy.beta.example" {
				t.Errorf("Organisations = %+v, %v", orgs, err)
			}
		}()
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "acme", Name: "Acme"}, entry("org.create", "org:acme")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "acme", Name: "Again"}); !errors.Is(err, ErrConflict) {
			t.Errorf("second acme: %v, want ErrConflict", err)
		}
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "beta", Name: "Beta", Hosts: []string{"privacy.beta.example"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "gamma", Name: "Gamma", Hosts: []string{"privacy.beta.example"}}); !errors.Is(err, ErrConflict) {
			t.Errorf("a host another organisation holds: %v, want ErrConflict", err)
		}
		if _, err := s.Organisation(ctx, "gamma"); !errors.Is(err, ErrNotFound) {
			t.Errorf("a refused creation left the organisation: %v", err)
		}
		if err := s.SetOrganisationHosts(ctx, "acme", []string{"privacy.beta.example"}); !errors.Is(err, ErrConflict) {
			t.Errorf("taking beta's host: %v, want ErrConflict", err)
		}
		if err := s.SetOrganisationHosts(ctx, "acme", []string{"a.example", "b.example"}, entry("org.hosts", "org:acme")); err != nil {
			t.Fatal(err)
		}
		if err := s.SetOrganisationHosts(ctx, "nobody", nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("hosts of an unknown organisation: %v", err)
		}
		if o, err := s.Organisation(ctx, "acme"); err != nil || strings.Join(o.Hosts, ",") != "a.example,b.example" {
			t.Errorf("acme's hosts = %v, %v", o.Hosts, err)
		}
		o, changed, err := s.SetOrganisationStatus(ctx, "acme", OrgDisabled, entry("org.disable", "org:acme"))
		if err != nil || !changed || o.Status != OrgDisabled {
			t.Errorf("disable = %+v, %v, %v", o, changed, err)
		}
		if _, changed, err := s.SetOrganisationStatus(ctx, "acme", OrgDisabled, entry("org.disable", "org:acme")); err != nil || changed {
			t.Errorf("disable again = %v, %v; want unchanged", changed, err)
		}
		if _, _, err := s.SetOrganisationStatus(ctx, DefaultOrg, OrgDisabled); !errors.Is(err, ErrDefaultOrg) {
			t.Errorf("disabling the deployment's own: %v", err)
		}
		if _, _, err := s.SetOrganisationStatus(ctx, "nobody", OrgDisabled); !errors.Is(err, ErrNotFound) {
			t.Errorf("disabling an unknown one: %v", err)
		}
		// The registry's changes are on the deployment's trail, once each.
		es, _ := s.AuditEntries(ctx, AuditFilter{})
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action)
		}
		if got := strings.Join(actions, ","); got != "org.create,org.hosts,org.disable" {
			t.Errorf("trail = %s", got)
		}
		got, err := s.Organisation(ctx, "acme")
		if err != nil || got.Name != "Acme" || got.Status != OrgDisabled {
			t.Errorf("Organisation = %+v, %v", got, err)
		}
		if _, err := s.Organisation(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown: %v", err)
		}
	})
}

// TestEntrustments: groups and entrustments are the deployment's records,
// between registered organisations, with their changes on the trail of the
// handle that made them; an assistance task is finished once.
func TestEntrustments(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, id := range []string{"yonyou", "acme"} {
			if _, err := s.CreateOrganisation(ctx, Organisation{ID: id, Name: id}); err != nil {
				t.Fatal(err)
			}
		}
		if changed, err := s.SetOrganisationGroup(ctx, "acme", "g", entry("org.group", "org:acme")); err != nil || !changed {
			t.Fatalf("group = %v, %v", changed, err)
		}
		if changed, err := s.SetOrganisationGroup(ctx, "acme", "g", entry("org.group", "org:acme")); err != nil || changed {
			t.Errorf("same group again = %v, %v; want unchanged", changed, err)
		}
		if _, err := s.SetOrganisationGroup(ctx, "nobody", "g"); !errors.Is(err, ErrNotFound) {
			t.Errorf("group of an unknown organisation: %v", err)
		}
		if o, _ := s.Organisation(ctx, "acme"); o.Group != "g" {
			t.Errorf("acme's group = %q", o.Group)
		}
		e := Entrustment{ID: "en-1", Controller: "acme", Processor: "yonyou", Categories: []string{"contact"}, Purposes: []string{"hr"},
			Instructions: "run the HR app", AssistCount: 5, AssistUnit: "working_days", StartsOn: "2026-01-01"}
		if _, err := s.CreateEntrustment(ctx, e, entry("entrustment.create", "entrustment:en-1")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateEntrustment(ctx, e); !errors.Is(err, ErrConflict) {
			t.Errorf("same id again: %v, want ErrConflict", err)
		}
		bad := e
		bad.ID, bad.Controller = "en-2", "nobody"
		if _, err := s.CreateEntrustment(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown controller: %v, want ErrNotFound", err)
		}
		for _, org := range []string{"acme", "yonyou", ""} {
			if es, err := s.Entrustments(ctx, org); err != nil || len(es) != 1 || es[0].SubProcessors == nil || es[0].Categories[0] != "contact" {
				t.Errorf("Entrustments(%q) = %+v, %v", org, es, err)
			}
		}
		if es, err := s.Entrustments(ctx, DefaultOrg); err != nil || len(es) != 0 {
			t.Errorf("the default organisation's = %+v, %v", es, err)
		}
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		ended, err := s.EndEntrustment(ctx, "en-1", "delete", at, nil, entry("entrustment.end", "entrustment:en-1"))
		if err != nil || ended.State != EntrustmentEnded || !ended.EndedAt.Equal(at) {
			t.Errorf("end = %+v, %v", ended, err)
		}
		if _, err := s.EndEntrustment(ctx, "en-1", "delete", at, nil); !errors.Is(err, ErrConflict) {
			t.Errorf("ending twice: %v, want ErrConflict", err)
		}
		if got, err := s.Entrustment(ctx, "en-1"); err != nil || got.State != EntrustmentEnded || got.EndAction != "delete" {
			t.Errorf("Entrustment = %+v, %v", got, err)
		}

		y := s.ForOrg("yonyou")
		now := time.Now().UTC()
		r := request("rq_y", "", "verified")
		task := AssistanceTask{ID: "as-1", Entrustment: "en-1", Controller: "acme", ControllerRequest: "rq_a", RequestID: r.ID, Kind: "access", DueDate: "2026-03-06", State: AssistanceOpen, CreatedAt: now}
		if err := y.CreateRequest(ctx, r, RequestEvent{RequestID: r.ID, At: now, Actor: "t", To: r.State}, []TxFn{y.AssistanceTaskFn(task)}); err != nil {
			t.Fatal(err)
		}
		if ts, err := s.ForOrg("acme").AssistanceTasks(ctx, ""); err != nil || len(ts) != 0 {
			t.Errorf("the controller sees the processor's tasks: %+v, %v", ts, err)
		}
		done, err := y.FinishAssistanceTask(ctx, "as-1", "sent the HR records", at, entry("assistance.done", "request:rq_y"))
		if err != nil || done.State != AssistanceDone || done.Note != "sent the HR records" {
			t.Errorf("finish = %+v, %v", done, err)
		}
		if _, err := y.FinishAssistanceTask(ctx, "as-1", "", at); !errors.Is(err, ErrConflict) {
			t.Errorf("finishing twice: %v, want ErrConflict", err)
		}
		if _, err := s.ForOrg("acme").FinishAssistanceTask(ctx, "as-1", "", at); !errors.Is(err, ErrNotFound) {
			t.Errorf("another organisation finishing it: %v, want ErrNotFound", err)
		}
		if ts, err := y.AssistanceTasks(ctx, AssistanceDone); err != nil || len(ts) != 1 || !ts[0].DoneAt.Equal(at) {
			t.Errorf("done tasks = %+v, %v", ts, err)
		}
		es, _ := s.AuditEntries(ctx, AuditFilter{})
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action)
		}
		if got := strings.Join(actions, ","); got != "org.group,entrustment.create,entrustment.end" {
			t.Errorf("the deployment's trail = %s", got)
		}
	})
}

// TestHooksKeepToTheirOrganisation: a cache hooked on one organisation's
// handle is told of its writes only, even when a batch mixes them.
func TestHooksKeepToTheirOrganisation(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, t.TempDir()+"/custos.db")
	if _, err := s.CreateOrganisation(ctx, Organisation{ID: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	a, b := s, s.ForOrg("acme")
	var mu sync.Mutex
	seen := map[string][]string{}
	for _, h := range []*Store{a, b} {
		h.OnApply(func(ws []*Write) {
			mu.Lock()
			defer mu.Unlock()
			for _, w := range ws {
				for _, e := range w.Events {
					seen[h.Org()] = append(seen[h.Org()], w.Org()+":"+e.ID)
				}
			}
		})
	}
	for _, h := range []*Store{a, b} {
		if err := h.CreateSubject(ctx, Subject{ID: "u-1"}); err != nil {
			t.Fatal(err)
		}
	}
	// Queued together, so that one batch carries both organisations'.
	var wg sync.WaitGroup
	for i := range 20 {
		h := []*Store{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.AppendConsents(ctx, []ConsentEvent{consent(fmt.Sprintf("e%d", i), "u-1", "ads", ActionGrant, 1)}, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for org, events := range seen {
		if len(events) != 10 {
			t.Errorf("%s's hook was told of %d events, want 10", org, len(events))
		}
		for _, e := range events {
			if !strings.HasPrefix(e, org+":") {
				t.Errorf("%s's hook was told of %s", org, e)
			}
		}
	}
}

// TestMixedBatchesChainEachTrail: entries of several organisations queued
// together (one batch, one statement of each kind on SQLite) land on each
// organisation's own trail, each a whole chain.
func TestMixedBatchesChainEachTrail(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		hs := []*Store{s}
		for _, id := range []string{"acme", "beta"} {
			if _, err := s.CreateOrganisation(ctx, Organisation{ID: id, Name: id}); err != nil {
				t.Fatal(err)
			}
			hs = append(hs, s.ForOrg(id).WithChainKeys([]byte(id+"-chain-key-0123456789abcdef012345"), nil))
		}
		var wg sync.WaitGroup
		for i := range 300 {
			h := hs[i%3]
			wg.Add(1)
			go func() {
				defer wg.Done()
				e := entry("check.deny", fmt.Sprintf("subject:%s-%d", h.Org(), i))
				if i%2 == 0 {
					if err := h.EnqueueAudit(ctx, e); err != nil {
						t.Error(err)
					}
				} else if err := h.AppendAudit(ctx, e); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		for _, h := range hs {
			if err := h.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for _, h := range hs {
			rep, err := h.VerifyAudit(ctx, nil, nil)
			if err != nil || !rep.OK || rep.Entries != 100 {
				t.Errorf("%s: %d entries, ok %v, %+v, %v", h.Org(), rep.Entries, rep.OK, rep.Problems, err)
			}
			es, _ := h.AuditEntries(ctx, AuditFilter{})
			for _, e := range es {
				if !strings.HasPrefix(e.Object, "subject:"+h.Org()+"-") {
					t.Errorf("%s's trail holds %s", h.Org(), e.Object)
				}
			}
		}
		if n := s.DroppedWrites(); n != 0 {
			t.Errorf("%d queued writes failed", n)
		}
	})
}

// TestOnApplyRemove: a hook taken off is told of no later write, and the
// others still are.
func TestOnApplyRemove(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, t.TempDir()+"/custos.db")
	var gone, kept int
	remove := s.OnApply(func(ws []*Write) { gone += len(ws) })
	s.OnApply(func(ws []*Write) { kept += len(ws) })
	if err := s.AppendAudit(ctx, entry("x.first", "o")); err != nil {
		t.Fatal(err)
	}
	remove()
	remove() // twice is harmless
	if err := s.AppendAudit(ctx, entry("x.second", "o")); err != nil {
		t.Fatal(err)
	}
	if gone != 1 || kept != 2 {
		t.Errorf("removed hook told of %d writes (want 1), kept hook of %d (want 2)", gone, kept)
	}
}

// BenchmarkEnqueueAudit queues decision records (one audit entry each) the
// way the decision path does, spread over 1 or 100 organisations, and
// waits for them to commit. ns/op is the writer's cost per record.
func BenchmarkEnqueueAudit(b *testing.B) {
	for _, orgs := range []int{1, 100} {
		b.Run(fmt.Sprintf("orgs=%d", orgs), func(b *testing.B) {
			ctx := context.Background()
			s := openFresh(b, b.TempDir()+"/custos.db")
			hs := []*Store{s}
			for i := 1; i < orgs; i++ {
				id := fmt.Sprintf("org%03d", i)
				if _, err := s.CreateOrganisation(ctx, Organisation{ID: id, Name: id}); err != nil {
					b.Fatal(err)
				}
				hs = append(hs, s.ForOrg(id).WithChainKeys([]byte(id+"-chain-key-0123456789abcdef01234"), nil))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := hs[i%orgs].EnqueueAudit(ctx, entry("check.deny", "subject:s")); err != nil {
					b.Fatal(err)
				}
			}
			for _, h := range hs {
				if err := h.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestByOrganisation: a batch is grouped by organisation, each group in
// batch order, and a batch of one organisation is handed on as it is.
func TestByOrganisation(t *testing.T) {
	a, b, c := &Store{org: "a"}, &Store{org: "b"}, &Store{org: "c"}
	w := func(st *Store) *Write { return &Write{st: st} }
	one := []*Write{w(a), w(a), w(a)}
	if got := byOrganisation(one); len(got) != 1 || len(got["a"]) != 3 || &got["a"][0] != &one[0] {
		t.Errorf("one organisation's batch: %v, want the batch itself", got)
	}
	mixed := []*Write{w(a), w(a), w(b), w(a), w(c), w(b)}
	got := byOrganisation(mixed)
	want := map[string][]*Write{"a": {mixed[0], mixed[1], mixed[3]}, "b": {mixed[2], mixed[5]}, "c": {mixed[4]}}
	if len(got) != len(want) {
		t.Fatalf("groups = %d, want %d", len(got), len(want))
	}
	for org, ws := range want {
		if !slices.Equal(got[org], ws) {
			t.Errorf("%s: %v, want %v", org, got[org], ws)
		}
	}
}
