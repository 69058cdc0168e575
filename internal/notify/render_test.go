package notify

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

var wantTemplates = []string{
	"cancellation_scheduled",
	"incident_escalation",
	"incident_notice",
	"otp",
	"policy_change",
	"recipient_notice",
	"request_awaiting_subject",
	"request_cancelled",
	"request_completed",
	"request_extended",
	"request_fee",
	"request_fee_waived",
	"request_in_progress",
	"request_received",
	"request_refused",
	"request_verified",
	"transfer_threshold",
	"transmission_failed",
}

func TestTemplatesComplete(t *testing.T) {
	if d := cmp.Diff(wantTemplates, Templates()); d != "" {
		t.Errorf("Templates() (-want +got):\n%s", d)
	}
	for _, lang := range Languages() {
		var got []string
		for k := range catalog {
			if k.lang == lang {
				got = append(got, k.name)
			}
		}
		slices.Sort(got)
		if d := cmp.Diff(wantTemplates, got); d != "" {
			t.Errorf("templates in %s (-want +got):\n%s", lang, d)
		}
	}

	// Values each message must show, in every language and in both bodies.
	mustShow := map[string][]string{
		"otp":                      {testCode, "10"},
		"request_received":         {"req_7f3a9c21", "2026-03-20"},
		"request_verified":         {"req_7f3a9c21", "2026-03-20"},
		"request_extended":         {"req_7f3a9c21", "2026-03-20", "reason"},
		"request_completed":        {"req_7f3a9c21"},
		"request_refused":          {"req_7f3a9c21", "reason"},
		"request_awaiting_subject": {"req_7f3a9c21", "reason"},
		"request_fee":              {"req_7f3a9c21", "20.00 CNY", "12"},
		"request_fee_waived":       {"req_7f3a9c21"},
		"recipient_notice":         {"rt_1", "deletion", "basic.email", "ref-1", "/v1/public/acknowledgements/rt_1.mac"},
		"request_in_progress":      {"req_7f3a9c21", "2026-03-20"},
		"request_cancelled":        {"req_7f3a9c21"},
		"cancellation_scheduled":   {"req_7f3a9c21", "2026-04-01"},
		"policy_change":            {"3.1", "2026-04-01", "https://example.com/privacy"},
		"transmission_failed":      {"req_7f3a9c21", "Acme Cloud", "acme.example", "reason"},
		"transfer_threshold":       {"2026", "87000", "100000", "sg-sync-relay"},
		"incident_notice":          {"in_1", "privacy@example.com"},
		"incident_escalation":      {"in_1", "cn_regulator", "2026-03-20 12:00 UTC"},
	}
	for _, name := range wantTemplates {
		for _, lang := range Languages() {
			t.Run(name+"."+lang, func(t *testing.T) {
				data := sampleFor(name, lang)
				r, err := Render(name, lang, data)
				if err != nil {
					t.Fatal(err)
				}
				for part, s := range map[string]string{"subject": r.Subject, "text": r.Text, "sms": r.SMS} {
					if strings.TrimSpace(s) == "" {
						t.Errorf("%s is empty", part)
					}
					if strings.Contains(s, "<no value>") {
						t.Errorf("%s has <no value>:\n%s", part, s)
					}
				}
				if strings.ContainsAny(r.Subject, "\r\n") || strings.ContainsAny(r.SMS, "\r\n") {
					t.Errorf("subject or SMS spans lines: %q / %q", r.Subject, r.SMS)
				}
				for _, v := range mustShow[name] {
					if v == "reason" {
						v = data["reason"]
					}
					if !strings.Contains(r.Text, v) || !strings.Contains(r.SMS, v) {
						t.Errorf("text or SMS lacks %q:\n%s\n---\n%s", v, r.Text, r.SMS)
					}
				}
				// Messages to the subject name their request; the recipient notice
				// names the action instead (checked through mustShow); incident
				// messages and the transfer alert concern no request.
				if name != "otp" && name != "cancellation_scheduled" && name != "recipient_notice" && name != "policy_change" && name != "transfer_threshold" && !strings.HasPrefix(name, "incident_") {
					want := map[string]string{LangZH: "删除个人信息", LangEN: "deletion of your personal information"}[lang]
					if !strings.Contains(r.Text, want) {
						t.Errorf("text does not name the request type as %q:\n%s", want, r.Text)
					}
				}
			})
		}
	}
}

// TestRenderGolden keeps every message as a file that a reviewer (or a
// translator) can read; rerun with -update after changing a template.
func TestRenderGolden(t *testing.T) {
	for _, name := range wantTemplates {
		for _, lang := range Languages() {
			t.Run(name+"."+lang, func(t *testing.T) {
				r, err := Render(name, lang, sampleFor(name, lang))
				if err != nil {
					t.Fatal(err)
				}
				got := "Subject: " + r.Subject + "\n\n" + r.Text + "\n--- sms ---\n" + r.SMS + "\n"
				path := filepath.Join("testdata", "golden", name+"."+lang+".txt")
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./internal/notify -update to create it)", err)
				}
				if d := cmp.Diff(string(want), got); d != "" {
					t.Errorf("%s differs (-want +got; rerun with -update if intended):\n%s", path, d)
				}
			})
		}
	}
}

func TestRenderValues(t *testing.T) {
	tests := []struct {
		name     string
		template string
		lang     string
		drop     []string // keys removed from the sample data
		set      map[string]string
		wantErr  string // substring; "" for success
		wantText []string
		notText  []string
	}{
		{name: "otp needs the code", template: "otp", lang: LangEN, drop: []string{"code"}, wantErr: `"code"`},
		{name: "refusal needs a reason", template: "request_refused", lang: LangZH, drop: []string{"reason"}, wantErr: `"reason"`},
		{name: "extension needs a due date", template: "request_extended", lang: LangEN, drop: []string{"due_date"}, wantErr: `"due_date"`},
		{name: "blank counts as missing", template: "request_refused", lang: LangEN, set: map[string]string{"reason": " "}, wantErr: `"reason"`},
		{name: "cancellation needs its date", template: "cancellation_scheduled", lang: LangZH, set: map[string]string{"effective": ""}, wantErr: `"effective"`},
		{
			name: "due date is optional once verified", template: "request_verified", lang: LangEN, set: map[string]string{"due_date": ""},
			wantText: []string{"Status: verified, in progress\n"}, notText: []string{"reply by"},
		},
		{
			name: "a provisional due date says why", template: "request_received", lang: LangEN, set: map[string]string{"due_note": "This date is provisional."},
			wantText: []string{"We will reply by: 2026-03-20\nThis date is provisional.\n"},
		},
		{
			name: "a provisional due date says why, extended", template: "request_extended", lang: LangZH, set: map[string]string{"due_note": "该日期为暂定日期。"},
			wantText: []string{"新的答复期限：2026-03-20\n该日期为暂定日期。\n"},
		},
		{
			name: "a firm due date has no note", template: "request_verified", lang: LangEN,
			wantText: []string{"We will reply by: 2026-03-20\n"}, notText: []string{"provisional"},
		},
		{name: "unknown template", template: "welcome", lang: LangEN, wantErr: `"welcome"`},
		{name: "unknown language", template: "otp", lang: "fr", wantErr: `"fr"`},
		{
			name: "completion note is optional", template: "request_completed", lang: LangEN, drop: []string{"reason"},
			wantText: []string{"Status: completed\n\nIf you think"},
		},
		{
			name: "due date is optional on receipt", template: "request_received", lang: LangZH, drop: []string{"due_date"},
			wantText: []string{"状态：已收到\n\n如需确认"}, notText: []string{"前答复"},
		},
		{
			name: "cancellation reason shown when given", template: "request_cancelled", lang: LangEN,
			set: map[string]string{"reason": "you asked us to"}, wantText: []string{"Reason: you asked us to"},
		},
		{
			name: "unknown request type shown as given", template: "request_received", lang: LangZH,
			set: map[string]string{"type": "custom_thing"}, wantText: []string{"关于“custom_thing”的请求"},
		},
		{
			name: "Chinese name of a right", template: "request_received", lang: LangZH,
			set: map[string]string{"type": "cancel_account"}, wantText: []string{"关于“注销账号”的请求"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := sampleData(tt.lang)
			for _, k := range tt.drop {
				delete(data, k)
			}
			for k, v := range tt.set {
				data[k] = v
			}
			r, err := Render(tt.template, tt.lang, data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("Render error = %v, want ErrInvalid mentioning %s", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), testCode) {
					t.Errorf("error quotes a value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(r.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, r.Text)
				}
			}
			for _, s := range tt.notText {
				if strings.Contains(r.Text, s) {
					t.Errorf("text has %q:\n%s", s, r.Text)
				}
			}
		})
	}
}

func TestRenderSubjectIsOneLine(t *testing.T) {
	data := sampleData(LangEN)
	data["request"] = "req_1\r\nBcc: someone@example.net"
	r, err := Render("request_received", LangEN, data)
	if err != nil {
		t.Fatal(err)
	}
	if want := "We have received your request req_1 Bcc: someone@example.net"; r.Subject != want {
		t.Errorf("Subject = %q, want %q", r.Subject, want)
	}
}

func TestLoadCatalogRejects(t *testing.T) {
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"unknown language", fstest.MapFS{"templates/otp.fr.tmpl": {Data: []byte(`{{define "subject"}}x{{end}}`)}}, "otp.fr.tmpl"},
		{"no language", fstest.MapFS{"templates/otp.tmpl": {Data: []byte(`{{define "subject"}}x{{end}}`)}}, "otp.tmpl"},
		{"syntax", fstest.MapFS{"templates/otp.en.tmpl": {Data: []byte(`{{define "subject"}}{{.code{{end}}`)}}, "otp.en.tmpl"},
		{"unknown function", fstest.MapFS{"templates/otp.en.tmpl": {Data: []byte(`{{define "subject"}}{{shout .code}}{{end}}`)}}, "otp.en.tmpl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadCatalog(tt.fs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("loadCatalog error = %v, want one naming %s", err, tt.want)
			}
		})
	}
	c, err := loadCatalog(fstest.MapFS{"templates/otp.en.tmpl": {Data: []byte(`{{define "subject"}}{{right "access"}}{{end}}`)}})
	if err != nil || len(c) != 1 {
		t.Fatalf("loadCatalog of a good file = %d templates, %v", len(c), err)
	}
}

// TestRecipientNoticeLink: a notice given the full link to acknowledge it
// shows that link, in the text and the SMS, in every language.
func TestRecipientNoticeLink(t *testing.T) {
	const link = "https://privacy.example.com/v1/public/acknowledgements/rt_1.mac"
	for _, lang := range Languages() {
		data := sampleFor("recipient_notice", lang)
		data["ack_url"] = link
		r, err := Render("recipient_notice", lang, data)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Text, "curl -X POST '"+link+"'") || !strings.Contains(r.SMS, "POST "+link) {
			t.Errorf("%s: the notice lacks the link:\n%s\n---\n%s", lang, r.Text, r.SMS)
		}
	}
}
