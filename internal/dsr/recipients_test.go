package dsr_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/manifest"
)

// TestNoticeRecipients: only the parties that received this person's
// data are told, and every kind of party that did.
func TestNoticeRecipients(t *testing.T) {
	load := func() *manifest.Manifest {
		m, err := manifest.Load(deepinManifest)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// deepin: three SDK providers (T-Sec for content-compliance, a legal
	// obligation; SendCloud and Lianlu for notification, the contract),
	// affiliates receiving de-identified statistics for big-data-analysis
	// (consent), partners the same, suppliers and processors on contract,
	// and authorities.
	sdks := []string{"sdk:tencent-tsec-text", "sdk:sendcloud-mail", "sdk:lianlu-sms"}
	contract := []string{"entrusted-suppliers", "third-party-processors"}
	for _, tc := range []struct {
		name    string
		change  func(m *manifest.Manifest)
		granted map[string]bool
		want    []string
	}{
		{name: "deletion, big-data analysis consented: SDK providers and affiliates too",
			granted: map[string]bool{"big-data-analysis": true, "profile": true},
			want:    append(append([]string{"affiliates"}, contract...), sdks...)},
		{name: "big-data analysis never consented: no affiliates",
			granted: map[string]bool{"profile": true},
			want:    append(append([]string{}, contract...), sdks...)},
		{name: "a grant of another key is not one of the purpose",
			granted: map[string]bool{"objection:big-data-analysis": true, "recipient:affiliates": true},
			want:    append(append([]string{}, contract...), sdks...)},
		{name: "an SDK on consent, never given, is left out",
			change: func(m *manifest.Manifest) {
				m.SDKs[0].Basis = "consent"
				m.SDKs[0].Purposes = []string{"internal-audit"}
			},
			want: append(append([]string{}, contract...), sdks[1:]...)},
		{name: "an SDK on consent, given, is told",
			change: func(m *manifest.Manifest) {
				m.SDKs[0].Basis = "consent"
				m.SDKs[0].Purposes = []string{"internal-audit"}
			},
			granted: map[string]bool{"internal-audit": true},
			want:    append(append([]string{}, contract...), sdks...)},
		{name: "an SDK that collects nothing is left out",
			change: func(m *manifest.Manifest) { m.SDKs[2].Collects = nil },
			want:   append(append([]string{}, contract...), sdks[:2]...)},
		{name: "provision on separate consent needs that consent",
			change: func(m *manifest.Manifest) { m.Recipients[3].SeparateConsent = true },
			want:   append([]string{"entrusted-suppliers"}, sdks...)},
		{name: "provision on separate consent, given",
			change:  func(m *manifest.Manifest) { m.Recipients[3].SeparateConsent = true },
			granted: map[string]bool{"recipient:third-party-processors": true},
			want:    append(append([]string{}, contract...), sdks...)},
		{name: "de-identified data outside the group is not personal information",
			change:  func(m *manifest.Manifest) { m.Recipients[1].Purposes = []string{"service-functions"} },
			granted: map[string]bool{},
			want:    append(append([]string{}, contract...), sdks...)},
		{name: "a partner receiving personal information is told",
			change: func(m *manifest.Manifest) {
				m.Recipients[1].Purposes, m.Recipients[1].Deidentified = []string{"service-functions"}, false
			},
			want: append(append([]string{"partners"}, contract...), sdks...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := load()
			if tc.change != nil {
				tc.change(m)
			}
			var got []string
			for _, rc := range dsr.NoticeRecipients(m, "CN", tc.granted) {
				got = append(got, rc.ID)
				if rc.Name.In("en") == "" || len(rc.Categories) == 0 {
					t.Errorf("%s has no name or categories: %+v", rc.ID, rc)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("told (-want +got):\n%s", diff)
			}
		})
	}

	m := load()
	for id, want := range map[string]string{
		"sdk:sendcloud-mail":     "Wuhan SendCloud Technology Co., Ltd.",
		"affiliates":             "Our affiliates",
		"third_party:Acme Cloud": "Acme Cloud",
		"gone-from-the-manifest": "gone-from-the-manifest",
		"sdk:gone-from-the-list": "sdk:gone-from-the-list",
	} {
		if got := dsr.NoticeRecipientName(m, id, "en"); got != want {
			t.Errorf("NoticeRecipientName(%q) = %q, want %q", id, got, want)
		}
	}
}
