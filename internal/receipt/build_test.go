package receipt

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/google/go-cmp/cmp"
)

const (
	starterPath  = "../../examples/starter/custos.yaml"
	receiptGold  = "testdata/receipt.golden.json"
	testSubject  = "sub_7f3a9c21"
	testNoticeSH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

func loadStarter(t *testing.T) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load(starterPath)
	if err != nil {
		t.Fatalf("load %s: %v", starterPath, err)
	}
	return m
}

// starterEvent covers a sensitive purpose (precise location), one shared with an
// advertiser, and one exported abroad, so the golden file shows each branch.
func starterEvent() Event {
	return Event{
		ID:            "evt_01",
		SubjectID:     testSubject,
		Purposes:      []string{"location_tagging", "advertising", "sync_acceleration"},
		Action:        ActionGrant,
		At:            time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC),
		Method:        "app_dialog",
		Language:      "en",
		PolicyVersion: "3.0",
		NoticeHash:    testNoticeSH,
		Separate:      true,
	}
}

func TestBuildGolden(t *testing.T) {
	r := Build(loadStarter(t), starterEvent(), "")
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(receiptGold, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(receiptGold)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/receipt -update to create it)", err)
	}
	if d := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); d != "" {
		t.Errorf("Build differs from %s (-want +got; rerun with -update if intended):\n%s", receiptGold, d)
	}
}

var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	phoneRE = regexp.MustCompile(`\+[0-9][0-9 ()-]{6,}[0-9]`)
)

// A receipt names the person only by the opaque subject id, and carries no email
// address or phone number from the manifest except the controller's published contact.
func TestBuildContactData(t *testing.T) {
	raw, err := os.ReadFile(starterPath)
	if err != nil {
		t.Fatal(err)
	}
	m := loadStarter(t)
	for _, lang := range []string{"en", "zh-CN"} {
		t.Run(lang, func(t *testing.T) {
			r := Build(m, starterEvent(), lang)
			js, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			out := string(js)
			if !strings.Contains(out, `"piiPrincipalId":"`+testSubject+`"`) {
				t.Errorf("receipt does not carry the subject id %q", testSubject)
			}
			published := map[string]bool{"privacy@qingyun.example.cn": true, "+86 571 0000 0000": true}
			if d := cmp.Diff([]string{"privacy@qingyun.example.cn", "+86 571 0000 0000"},
				[]string{r.PIIControllers[0].Email, r.PIIControllers[0].Phone}); d != "" {
				t.Errorf("controller contact (-want +got):\n%s", d)
			}
			found := append(emailRE.FindAllString(string(raw), -1), phoneRE.FindAllString(string(raw), -1)...)
			if len(found) < 5 {
				t.Fatalf("found only %d contact values in %s; the check would prove nothing", len(found), starterPath)
			}
			for _, v := range found {
				if !published[v] && strings.Contains(out, v) {
					t.Errorf("receipt contains %q from the manifest", v)
				}
			}
		})
	}
}

// small is a manifest written for the cases below, independent of the examples.
func small() *manifest.Manifest {
	return &manifest.Manifest{
		Policy: manifest.Policy{ID: "p", Version: "7", URL: "https://example.cn/privacy", Prevailing: "zh-CN"},
		Controllers: []manifest.Controller{
			{ID: "acme", Name: manifest.Text{"zh": "示例有限公司"}, Role: "controller", Country: "CN", Website: "https://example.cn"},
			{ID: "proc", Name: manifest.Text{"zh": "处理者", "en": "Processor Ltd."}, Role: "processor", Country: "SG", Address: manifest.Text{"en": "1 Road, Singapore"}},
		},
		Contact: manifest.Contact{
			Department: manifest.Text{"zh": "隐私办公室", "en": "Privacy Office"},
			Address:    manifest.Text{"en": "2 Street, Hangzhou"},
			Channels: []manifest.Channel{
				{ID: "web", Kind: "web", Value: "https://example.cn/help"},
				{ID: "tel", Kind: "phone", Value: "+86 10 1234 5678"},
				{ID: "a", Kind: "email", Value: "a@example.cn"},
				{ID: "b", Kind: "email", Value: "b@example.cn"},
			},
		},
		Services: []manifest.Service{
			{ID: "app", Name: manifest.Text{"zh": "应用", "en": "App"}, Collects: []manifest.Collection{
				{Categories: []string{"device.id", "basic.phone"}, Purposes: []string{"ads", "core"}, Necessity: "optional"},
				{Categories: []string{"basic.phone", "location.precise"}, Purposes: []string{"ads"}, Necessity: "required"},
			}},
			{ID: "web", Name: manifest.Text{"en": "Website"}, Collects: []manifest.Collection{
				{Categories: []string{"device.id"}, Purposes: []string{"ads"}, Necessity: "optional"},
			}},
		},
		Purposes: []manifest.Purpose{
			{ID: "ads", Name: manifest.Text{"zh": "广告", "en": "advertising"}, Basis: "consent"},
			{ID: "core", Name: manifest.Text{"en": "core service"}, Basis: "contract"},
			{ID: "news", Name: manifest.Text{"en": "newsletter"}, Basis: "consent"},
		},
		Recipients: []manifest.Recipient{
			{ID: "r1", Name: manifest.Text{"en": "Ads Co."}, Purposes: []string{"ads"}},
			{ID: "r2", Name: manifest.Text{"en": "Other Co."}, Purposes: []string{"core", "ads"}},
		},
		Retention: []manifest.Retention{
			{ID: "ads-ids", Purposes: []string{"ads"}, Categories: []string{"device.id"}, Until: "consent_withdrawn"},
			{ID: "ads", Purposes: []string{"ads"}, Period: &manifest.Period{Count: 1, Unit: "months"}, From: "last_activity"},
			{ID: "core", Purposes: []string{"core"}, Period: &manifest.Period{Count: 3, Unit: "years"}},
			{ID: "news", Purposes: []string{"news"}, Until: "account_deletion"},
		},
	}
}

func TestBuild(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ads := Purpose{
		Purpose: "advertising", PurposeCategory: []string{"ads"}, ConsentType: "EXPLICIT",
		PIICategory: []string{"basic.phone", "device.id", "location.precise"}, PrimaryPurpose: true,
		Termination: "1 month from last activity", ThirdPartyDisclosure: true, ThirdPartyName: "Ads Co., Other Co.",
	}
	webAds := ads
	webAds.PIICategory, webAds.PrimaryPurpose = []string{"device.id"}, false
	core := Purpose{
		Purpose: "core service", PurposeCategory: []string{"core"}, ConsentType: "CONTRACT",
		PIICategory: []string{"basic.phone", "device.id"}, Termination: "3 years",
		ThirdPartyDisclosure: true, ThirdPartyName: "Other Co.",
	}
	news := Purpose{
		Purpose: "newsletter", PurposeCategory: []string{"news"}, ConsentType: "EXPLICIT",
		PIICategory: []string{}, Termination: "account_deletion",
	}
	tests := []struct {
		name         string
		ev           Event
		lang         string
		wantServices []Service
		wantSPI      []string
	}{
		{
			name: "purpose collected by two services",
			ev:   Event{Purposes: []string{"ads"}},
			lang: "en",
			wantServices: []Service{
				{Service: "App", Purposes: []Purpose{ads}},
				{Service: "Website", Purposes: []Purpose{webAds}},
			},
			wantSPI: []string{"location.precise"},
		},
		{
			name:         "purpose no service collects for",
			ev:           Event{Purposes: []string{"news"}},
			lang:         "en",
			wantServices: []Service{{Service: "newsletter", Purposes: []Purpose{news}}},
		},
		{
			name: "several purposes, repeated",
			ev:   Event{Purposes: []string{"core", "news", "ads", "core"}},
			lang: "en",
			wantServices: []Service{
				{Service: "App", Purposes: []Purpose{core, ads}},
				{Service: "Website", Purposes: []Purpose{webAds}},
				{Service: "newsletter", Purposes: []Purpose{news}},
			},
			wantSPI: []string{"location.precise"},
		},
		{
			name: "unknown purpose keeps its id",
			ev:   Event{Purposes: []string{"gone"}},
			lang: "en",
			wantServices: []Service{{Service: "gone", Purposes: []Purpose{{
				Purpose: "gone", PurposeCategory: []string{"gone"}, PIICategory: []string{},
			}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ev.At = at
			r := Build(small(), tt.ev, tt.lang)
			if d := cmp.Diff(tt.wantServices, r.Services); d != "" {
				t.Errorf("services (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantSPI, r.SPICat); d != "" {
				t.Errorf("spiCat (-want +got):\n%s", d)
			}
			if r.Sensitive != (len(tt.wantSPI) > 0) {
				t.Errorf("sensitive = %v, want %v", r.Sensitive, len(tt.wantSPI) > 0)
			}
		})
	}
}

func TestBuildHeader(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	controllers := func(lang string) []Controller {
		zh := lang == "zh-CN"
		pick := func(zhs, ens string) string {
			if zh {
				return zhs
			}
			return ens
		}
		return []Controller{
			{
				PIIController: "示例有限公司", Contact: pick("隐私办公室", "Privacy Office"),
				Address: Address{StreetAddress: "2 Street, Hangzhou", AddressCountry: "CN"},
				Email:   "a@example.cn", Phone: "+86 10 1234 5678", PIIControllerURL: "https://example.cn",
			},
			{
				PIIController: pick("处理者", "Processor Ltd."), OnBehalf: true, Contact: pick("隐私办公室", "Privacy Office"),
				Address: Address{StreetAddress: "1 Road, Singapore", AddressCountry: "SG"},
				Email:   "a@example.cn", Phone: "+86 10 1234 5678",
			},
		}
	}
	id := receiptID("p", "e1")
	tests := []struct {
		name string
		ev   Event
		lang string
		want Receipt
	}{
		{
			name: "language from the event",
			ev:   Event{ID: "e1", SubjectID: "s1", Action: ActionWithdraw, At: at, Method: "api", Language: "en", NoticeHash: "ab"},
			want: Receipt{
				Version: Version, Jurisdiction: "CN", ConsentTimestamp: at.Unix(), CollectionMethod: "api",
				ConsentReceiptID: id, Language: "en", PIIPrincipalID: "s1", PIIControllers: controllers("en"),
				PolicyURL: "https://example.cn/privacy", Services: []Service{}, IssuedAt: at.Unix(), JTI: id,
				Custos: Extension{Event: "e1", Action: ActionWithdraw, PolicyVersion: "7", NoticeHash: "ab", Method: "api"},
			},
		},
		{
			name: "texts in another language than the notice",
			ev:   Event{ID: "e1", SubjectID: "s1", Action: ActionGrant, At: at, Method: "paper", Language: "en", PolicyVersion: "6", Separate: true},
			lang: "zh-CN",
			want: Receipt{
				Version: Version, Jurisdiction: "CN", ConsentTimestamp: at.Unix(), CollectionMethod: "paper",
				ConsentReceiptID: id, Language: "en", PIIPrincipalID: "s1", PIIControllers: controllers("zh-CN"),
				PolicyURL: "https://example.cn/privacy", Services: []Service{}, IssuedAt: at.Unix(), JTI: id,
				Custos: Extension{Event: "e1", Action: ActionGrant, PolicyVersion: "6", Separate: true, Method: "paper"},
			},
		},
		{
			name: "no language anywhere: the prevailing one",
			ev:   Event{ID: "e1", SubjectID: "s1", Action: ActionGrant, At: at, Method: "banner"},
			want: Receipt{
				Version: Version, Jurisdiction: "CN", ConsentTimestamp: at.Unix(), CollectionMethod: "banner",
				ConsentReceiptID: id, Language: "zh-CN", PIIPrincipalID: "s1", PIIControllers: controllers("zh-CN"),
				PolicyURL: "https://example.cn/privacy", Services: []Service{}, IssuedAt: at.Unix(), JTI: id,
				Custos: Extension{Event: "e1", Action: ActionGrant, PolicyVersion: "7", Method: "banner"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, Build(small(), tt.ev, tt.lang)); d != "" {
				t.Errorf("Build (-want +got):\n%s", d)
			}
		})
	}
}

func TestReceiptID(t *testing.T) {
	tests := []struct {
		policy, event, want string
	}{
		// Python: uuid.uuid5(uuid.NAMESPACE_URL, "urn:custos:qingyun-notes-privacy:event:evt_01")
		{"qingyun-notes-privacy", "evt_01", "b21609a8-2904-5bf7-9fe6-6f9be09618c2"},
	}
	for _, tt := range tests {
		if got := receiptID(tt.policy, tt.event); got != tt.want {
			t.Errorf("receiptID(%q, %q) = %s, want %s", tt.policy, tt.event, got, tt.want)
		}
	}
	if receiptID("p", "e1") == receiptID("p", "e2") || receiptID("p", "e1") == receiptID("q", "e1") {
		t.Error("receipt ids collide across events or policies")
	}
}
