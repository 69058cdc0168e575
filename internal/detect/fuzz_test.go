package detect

import (
	"slices"
	"testing"
)

func checkFinding(t *testing.T, f Finding) {
	t.Helper()
	if f.Confidence < 0 || f.Confidence > 1 {
		t.Errorf("confidence %v outside [0,1] in %+v", f.Confidence, f)
	}
	if !slices.Contains(Categories(), f.Category) {
		t.Errorf("category %q not in Categories()", f.Category)
	}
	if _, ok := valueDetectors[f.Detector]; !ok && f.Detector != DetColumnName {
		t.Errorf("unknown detector %q", f.Detector)
	}
}

func checkSorted(t *testing.T, fs []Finding) {
	t.Helper()
	for i := 1; i < len(fs); i++ {
		if fs[i].Confidence > fs[i-1].Confidence {
			t.Errorf("findings not sorted by confidence: %+v", fs)
		}
	}
}

func FuzzValue(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "13800138000", "+86-186-1234-5678", "(+86) 138 0013 8000", "li.na@example.com",
		"4111 1111 1111 1111", "GB82WEST12345698765432", "192.168.1.100", "[2001:db8::1]:443", "fe80::1%eth0",
		"00:1A:2B:3C:4D:5E", "001a.2b3c.4d5e", "490154203237518", "1990-03-07", "19900307", "", "(", "+(", "@",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Value(s)
		seen := map[string]bool{}
		for _, fd := range got {
			checkFinding(t, fd)
			if fd.Detector == DetColumnName {
				t.Errorf("Value returned a name finding: %+v", fd)
			}
			if seen[fd.Detector] {
				t.Errorf("detector %s reported twice", fd.Detector)
			}
			seen[fd.Detector] = true
		}
		checkSorted(t, got)
		// An ID number is never also reported as a card.
		if seen[DetPRCID] && seen[DetBankCard] {
			t.Errorf("value is both an ID number and a card")
		}
	})
}

func FuzzColumn(f *testing.F) {
	for _, s := range []string{
		"手机号", "phoneNumber", "IPAddress", "IPv6", "file_name", "idcardno", "users.email", "`a`.`b`",
		"姓名_手机号", "ip地址", "zip", "PHONE2", "ａｂｃ", "\xff\xfe", "名",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := Column(name)
		seen := map[string]bool{}
		for _, fd := range got {
			checkFinding(t, fd)
			if fd.Detector != DetColumnName {
				t.Errorf("Column finding from detector %q", fd.Detector)
			}
			if seen[fd.Category] {
				t.Errorf("category %s reported twice", fd.Category)
			}
			seen[fd.Category] = true
		}
		checkSorted(t, got)
	})
}

func FuzzSample(f *testing.F) {
	f.Add("mobile", "13800138000", "x")
	f.Add("dob", "1990-03-07", "")
	f.Add("c", "li.na@example.com", "4111111111111111")
	f.Fuzz(func(t *testing.T, name, a, b string) {
		got := Sample(name, []string{a, b})
		seen := map[string]bool{}
		for i, s := range got {
			checkFinding(t, Finding{Category: s.Category, Detector: s.Detector, Confidence: s.Confidence})
			if s.Matches < 0 || s.Matches > s.Sampled || s.Sampled > 2 {
				t.Errorf("summary counts %d of %d", s.Matches, s.Sampled)
			}
			if seen[s.Category] {
				t.Errorf("category %s summarised twice", s.Category)
			}
			seen[s.Category] = true
			if i > 0 && s.Confidence > got[i-1].Confidence {
				t.Errorf("summaries not sorted by confidence")
			}
		}
	})
}
