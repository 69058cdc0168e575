package promise_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/promise"
)

var update = flag.Bool("update", false, "rewrite golden files")

func load(t *testing.T, name string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load(filepath.Join("../../examples", name, "custos.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var exampleNames = []string{"deepin", "opengemini", "smart-device-app", "starter", "yonyou-cloud"}

// TestMapGolden: the promise map of every example, as JSON.
func TestMapGolden(t *testing.T) {
	for _, name := range exampleNames {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetIndent("", "  ")
			if err := enc.Encode(promise.Map(load(t, name), nil)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".json")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/promise -update)", err)
			}
			if !bytes.Equal(want, buf.Bytes()) {
				t.Errorf("the promise map of %s differs from %s; run with -update and review", name, path)
			}
		})
	}
}

// TestEveryKeeperIsNamed: an enforced promise names its component and a
// test that exists; a promise not kept says why; an organisational one
// says what Custos cannot check.
func TestEveryKeeperIsNamed(t *testing.T) {
	ref := regexp.MustCompile(`(internal/[a-z/]+) ((?:Test[A-Za-z0-9_]+(?:, )?)+)`)
	for _, name := range exampleNames {
		for _, p := range promise.Map(load(t, name), nil) {
			switch p.Keeper {
			case promise.Enforced:
				if p.Component == "" || p.Test == "" {
					t.Errorf("%s %s: enforced without a component and a test", name, p.ID)
					continue
				}
				for _, part := range strings.Split(p.Test, "; ") {
					mm := ref.FindStringSubmatch(part)
					if mm == nil {
						t.Errorf("%s %s: test %q is not \"internal/pkg TestA, TestB\"", name, p.ID, part)
						continue
					}
					for _, test := range strings.Split(mm[2], ", ") {
						if !testExists(t, mm[1], test) {
							t.Errorf("%s %s: %s has no func %s", name, p.ID, mm[1], test)
						}
					}
				}
			case promise.NotKept, promise.Organisational:
				if p.Why == "" {
					t.Errorf("%s %s: %s without a why", name, p.ID, p.Keeper)
				}
			case promise.Configured:
				if p.Needs == "" {
					t.Errorf("%s %s: configured without saying what it needs", name, p.ID)
				}
			default:
				t.Errorf("%s %s: unknown keeper %q", name, p.ID, p.Keeper)
			}
			if p.Says.In("zh") == "" || p.Says.In("en") == "" || p.Field == "" {
				t.Errorf("%s %s: a promise says what and names its field in both languages: %+v", name, p.ID, p)
			}
		}
	}
}

func testExists(t *testing.T, pkg, name string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("../..", pkg, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(src, []byte("func "+name+"(t *testing.T)")) {
			return true
		}
	}
	return false
}

func find(ps []promise.Promise, id string) (promise.Promise, bool) {
	for _, p := range ps {
		if p.ID == id {
			return p, true
		}
	}
	return promise.Promise{}, false
}

// TestKeeperConfigured: a promise moves from not kept to enforced when its
// keeper is configured — a recipient's erasure notices once it has an
// endpoint, a notice by message once a message channel exists.
func TestKeeperConfigured(t *testing.T) {
	m := load(t, "deepin")
	var id string
	for i, r := range m.Recipients {
		if r.Kind != "authority" && r.Endpoint == "" && r.NoticeEmail == "" {
			id = r.ID
			before, _ := find(promise.Map(m, nil), "recipient_notice:"+id)
			if before.Keeper != promise.NotKept {
				t.Fatalf("recipient %s without an endpoint: %s, want not_kept", id, before.Keeper)
			}
			m.Recipients[i].Endpoint = "https://erasure.example/hook"
			break
		}
	}
	if id == "" {
		t.Fatal("deepin has no recipient without an endpoint to configure")
	}
	after, _ := find(promise.Map(m, nil), "recipient_notice:"+id)
	if after.Keeper != promise.Enforced || after.Test == "" {
		t.Errorf("recipient %s with an endpoint: %+v, want enforced with a test", id, after)
	}

	for _, tt := range []struct {
		d    *promise.Deployment
		want promise.Keeper
	}{
		{nil, promise.Configured},
		{&promise.Deployment{MessageChannel: false}, promise.Configured},
		{&promise.Deployment{MessageChannel: true}, promise.Enforced},
	} {
		p, ok := find(promise.Map(load(t, "starter"), tt.d), "update_notice")
		if !ok || p.Keeper != tt.want {
			t.Errorf("update notice with deployment %+v: %+v, want %s", tt.d, p, tt.want)
		}
	}
}

// TestMapFollowsThePolicy: a promise is listed exactly when the policy
// makes it.
func TestMapFollowsThePolicy(t *testing.T) {
	m := load(t, "starter")
	if _, ok := find(promise.Map(m, nil), "incident_notice"); !ok {
		t.Fatal("the starter promises incident notices; the map does not list them")
	}
	m.Security.Incident = nil
	if p, ok := find(promise.Map(m, nil), "incident_notice"); ok {
		t.Errorf("no incident field, yet the map lists %+v", p)
	}
	if got := promise.Unkept(promise.Map(load(t, "starter"), nil)); len(got) == 0 {
		t.Error("the starter's retention is not kept yet; Unkept lists nothing")
	}
}

// TestRetentionKeptForTheVault: a retention rule that bounds a vault field
// names the vault's sweep as what keeps it for those values; other rules
// stay not kept.
func TestRetentionKeptForTheVault(t *testing.T) {
	m := load(t, "starter")
	if len(m.Vault) == 0 {
		t.Fatal("the starter keeps no vault field")
	}
	cat := m.Vault[0].Category
	m.Retention = append(m.Retention, manifest.Retention{ID: "vault-bound", Categories: []string{cat},
		Period: &manifest.Period{Count: 30, Unit: "days"}, From: "collection", After: "delete"})
	ps := promise.Map(m, nil)
	p, ok := find(ps, "retention:vault-bound")
	if !ok || p.Test == "" || !strings.Contains(p.Component, "internal/vault") || !strings.Contains(p.Why, m.Vault[0].Field) {
		t.Errorf("the rule bounding the vault field: %+v", p)
	}
	for _, p := range ps {
		if p.Kind == "retention" && p.ID != "retention:vault-bound" && p.Component != "" {
			t.Errorf("%s names a keeper though it bounds no vault field: %s", p.ID, p.Component)
		}
	}
}

// TestRetentionKeptByTheDataset: with the starter's dataset annotation,
// every retention rule is bound to the tables it governs; those ended by
// a clock are kept by the sweep, those ended by the account's deletion
// by its cancellation request, and those ended by events Custos does not
// observe stay not kept and say so. A rule the annotation does not bind
// says that.
func TestRetentionKeptByTheDataset(t *testing.T) {
	m := load(t, "starter")
	ds, err := dataset.Load(filepath.Join("..", "..", "examples", "starter", "dataset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]promise.Keeper{
		"retention:support": promise.Enforced, "retention:analytics": promise.Enforced, "retention:legal": promise.Enforced,
		"retention:account": promise.Enforced, "retention:minors": promise.Enforced,
		"retention:push": promise.Enforced, "retention:marketing": promise.Enforced, "retention:published": promise.NotKept,
	}
	ps := promise.MapWith(m, nil, ds)
	for _, p := range ps {
		if p.Kind != "retention" {
			continue
		}
		if strings.Contains(p.Why, "no collection") || strings.Contains(p.Why, "no dataset annotation") {
			t.Errorf("%s: %s", p.ID, p.Why)
		}
		if k, ok := want[p.ID]; ok && p.Keeper != k {
			t.Errorf("%s kept by %s (%s), want %s", p.ID, p.Keeper, p.Why, k)
		}
	}
	if p, _ := find(ps, "retention:account"); !strings.Contains(p.Component, "cancellation request") || p.Test == "" {
		t.Errorf("account: %+v", p)
	}
	if p, _ := find(ps, "retention:support"); !strings.Contains(p.Component, "internal/retention") || p.Test == "" {
		t.Errorf("support: %+v", p)
	}
	if p, _ := find(ps, "retention:push"); !strings.Contains(p.Test, "TestWithdrawalSweep") {
		t.Errorf("push: %+v", p)
	}
	if p, _ := find(ps, "retention:published"); !strings.Contains(p.Why, "shop.published_notes (purpose_fulfilled)") {
		t.Errorf("published: %+v", p)
	}
	ds.Datastores[0].Collections = ds.Datastores[0].Collections[:1] // users only
	if p, _ := find(promise.MapWith(m, nil, ds), "retention:support"); p.Keeper != promise.NotKept || !strings.Contains(p.Why, "no collection of") {
		t.Errorf("support, unbound: %+v", p)
	}
}
