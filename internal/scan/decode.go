package scan

import (
	"encoding/base64"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/detect"
)

// minBase64 is the shortest run of base64 characters worth decoding: 16
// characters hold 12 bytes, about the shortest value (a mobile number, an
// email address) that can hide in one.
const minBase64 = 16

// find returns the spans of personal information in s: what detect.Text
// finds, and, with decode, what it finds in the base64 written in s
// (decodedSpans).
func find(s string, decode bool) []detect.Span {
	spans := detect.Text(s)
	if !decode {
		return spans
	}
	return mergeSpans(spans, decodedSpans(s))
}

// decodedSpans decodes each run of at least minBase64 base64 characters
// in s (standard or URL-safe alphabet, padded or not: a JWT's parts, a
// cookie, a query parameter) that decodes to printable UTF-8 text, and
// reports a value detect.Text finds there as a span over the whole run:
// the run is what holds it. The span takes the category of the first
// value found and the detector "base64/" plus that value's detector; it is
// masked only when every value found in the run is.
func decodedSpans(s string) []detect.Span {
	var out []detect.Span
	for i := 0; i < len(s); {
		if !isBase64Byte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isBase64Byte(s[j]) {
			j++
		}
		end := j
		for end < len(s) && end-j < 2 && s[end] == '=' {
			end++
		}
		if j-i >= minBase64 {
			if text, ok := decodeBase64(s[i:j]); ok {
				if found := detect.Text(text); len(found) > 0 {
					sp := detect.Span{Start: i, End: end, Category: found[0].Category,
						Detector: "base64/" + found[0].Detector, Confidence: found[0].Confidence, Masked: true}
					for _, f := range found {
						sp.Confidence = max(sp.Confidence, f.Confidence)
						sp.Masked = sp.Masked && f.Masked
					}
					out = append(out, sp)
				}
			}
		}
		i = end
	}
	return out
}

func isBase64Byte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
}

// decodeBase64 decodes run (its padding left off) in whichever alphabet
// it is written, and accepts the result only as text: valid UTF-8 whose
// characters are printable or white space. A hash or a random token
// decodes to bytes that are not.
func decodeBase64(run string) (string, bool) {
	enc := base64.RawStdEncoding
	for k := 0; k < len(run); k++ {
		if run[k] == '-' || run[k] == '_' {
			enc = base64.RawURLEncoding
			break
		}
	}
	b, err := enc.DecodeString(run)
	if err != nil || !utf8.Valid(b) {
		return "", false
	}
	letters := 0
	for _, r := range string(b) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			letters++
		case unicode.IsPrint(r) || unicode.IsSpace(r):
		default:
			return "", false
		}
	}
	return string(b), letters > 0
}

// mergeSpans adds the decoded spans that overlap no span found directly,
// in order of Start.
func mergeSpans(direct, decoded []detect.Span) []detect.Span {
	if len(decoded) == 0 {
		return direct
	}
	out := slices.Clone(direct)
	for _, d := range decoded {
		if !slices.ContainsFunc(direct, func(s detect.Span) bool { return s.Start < d.End && d.Start < s.End }) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b detect.Span) int { return a.Start - b.Start })
	return out
}
