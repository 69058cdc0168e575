package detect

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/manifest"
)

func FuzzText(f *testing.F) {
	for _, s := range []string{
		"call 13812345678 now", "身份证 11010519491231002X", "138****1234", "a***@x.com", "卡号 6222 0212 3456\n7890 128",
		"ｌｉｎａ＠ｅｘａｍｐｌｅ．ｃｏｍ", "https://x.com/users/alice?email=bob%40example.com", "姓名：张三", "对接人买买提·阿凡提确认",
		"地址北京市海淀区中关村南大街 5 号，", "Fax: +46 (0)8 928 571 38", "345-899-3560x4587", "A123456(3)", "澳门身份证 1234567(8)",
		"GB82 WEST 1234 5698 7654 32", "fe80::1", "::", "(", "+(", "@", "%4", "%40", "·", "京A·", "\xe4\xb8", "1\r\n2", "*@*.co", "https://x.com/users/user=E1234*@",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spans := Text(s)
		checkSpans(t, s, spans)
		for _, sp := range spans {
			v := s[sp.Start:sp.End]
			// A masked value is never reported as one in clear.
			if (strings.Contains(v, "*") || strings.Contains(v, "＊")) && !sp.Masked {
				t.Fatalf("span [%d,%d) holds a mask but is not reported masked", sp.Start, sp.End)
			}
		}
		opts := TextOptions{MinConfidence: 0.8, Detectors: []string{DetPRCMobile, DetEmail, DetPersonName}}
		sub := TextWith(s, opts)
		checkSpans(t, s, sub)
		for _, sp := range sub {
			if sp.Confidence < opts.MinConfidence || !slices.Contains(opts.Detectors, sp.Detector) {
				t.Fatalf("TextWith returned %s at %.2f", sp.Detector, sp.Confidence)
			}
		}
	})
}

// TestTextOptions checks that TextWith keeps only what its options ask for.
func TestTextOptions(t *testing.T) {
	s := "手机 13812345678，邮箱 li.na@example.com，905-674-3793"
	tests := []struct {
		opts TextOptions
		want []string
	}{
		{TextOptions{}, []string{DetPRCMobile, DetEmail, DetPhoneNumber}},
		{TextOptions{MinConfidence: 0.9}, []string{DetPRCMobile, DetEmail}},
		{TextOptions{Detectors: []string{DetEmail}}, []string{DetEmail}},
	}
	for _, tt := range tests {
		var got []string
		for _, sp := range TextWith(s, tt.opts) {
			got = append(got, sp.Detector)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("TextWith(%+v) = %v, want %v", tt.opts, got, tt.want)
		}
	}
}

// TestDetectors checks the detector list: unique names, a category of the
// built-in taxonomy with the taxonomy's sensitive flag, a doc line, every
// value detector listed.
func TestDetectors(t *testing.T) {
	sensitive := map[string]bool{}
	for _, c := range manifest.BuiltinVocabulary().Categories {
		sensitive[c.ID] = c.Sensitive
	}
	seen := map[string]bool{}
	for _, d := range Detectors() {
		if seen[d.Name] {
			t.Errorf("detector %s listed twice", d.Name)
		}
		seen[d.Name] = true
		s, ok := sensitive[d.Category]
		if !ok {
			t.Errorf("detector %s: category %q is not a built-in id", d.Name, d.Category)
		}
		if s != d.Sensitive {
			t.Errorf("detector %s: sensitive %v, but the taxonomy says %v for %s", d.Name, d.Sensitive, s, d.Category)
		}
		if d.Doc == "" {
			t.Errorf("detector %s has no doc", d.Name)
		}
		if d.Personal != (d.Name != DetUSCC) {
			t.Errorf("detector %s: personal %v", d.Name, d.Personal)
		}
	}
	for det := range valueDetectors {
		if !seen[det] {
			t.Errorf("value detector %s missing from Detectors()", det)
		}
	}
}

// proseZH and proseEN hold no candidate at all.
const (
	proseZH = "本隐私政策说明我们如何收集、使用和保护您的个人信息，以及您享有的权利。我们会在必要的范围内处理数据，并采取安全措施。"
	proseEN = "This policy explains how we collect, use and protect your personal information, and the rights you have over it. "
)

// TestTextAllocations: text with no candidate costs no allocation.
func TestTextAllocations(t *testing.T) {
	s := strings.Repeat(proseZH+proseEN+"status=ok level=info took 12ms\n", 20)
	if n := testing.AllocsPerRun(20, func() { Text(s) }); n != 0 {
		t.Errorf("Text allocates %.0f times on text without candidates", n)
	}
}

// benchCorpus builds about size bytes of mixed Chinese and English log and
// prose lines, one line in four holding personal information.
func benchCorpus(size int) string {
	r := rand.New(rand.NewPCG(1, 2))
	pii := []string{
		"用户 张伟 手机 13812345678 下单成功",
		"收货地址：北京市海淀区中关村南大街5号，电话 010-12345678",
		"login ok user=li.na@example.com ip=192.168.10.24",
		"身份证 44030519880315123X 已核验",
		"card 4111 1111 1111 1111 charged",
		"device imei 490154203237518 mac 00:1A:2B:3C:4D:5E",
		"order no 6222021234567890128 shipped, ts=1712345678901234567",
	}
	plain := []string{
		proseZH, proseEN,
		"2026-12-07T05:44:10Z INFO request_id=550e8400-e29b-41d4-a716-446655440000 status=200 took=12ms",
		"版本 1.2.3.4 已发布，修复了若干问题。",
		"GET /api/v1/items?page=2&size=50 HTTP/1.1 200 1532",
		"sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 verified",
	}
	var b strings.Builder
	for b.Len() < size {
		if r.IntN(4) == 0 {
			b.WriteString(pii[r.IntN(len(pii))])
		} else {
			b.WriteString(plain[r.IntN(len(plain))])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func BenchmarkText(b *testing.B) {
	s := benchCorpus(4 << 20)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		Text(s)
	}
}

// BenchmarkTextProse measures text with no candidate at all, the bulk of
// most logs and documents.
func BenchmarkTextProse(b *testing.B) {
	s := strings.Repeat(proseZH+proseEN+"status=ok level=info took 12ms\n", 20000)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		Text(s)
	}
}
