package scan

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/netip"
	"os"
	"strings"
	"unicode"
)

// AllowList holds values a scan does not report: the public fixture values
// of a test suite, say. Values are compared normalised (Normalize), so
// "138 1234 5678", "+86 13812345678" and "１３８１２３４５６７８" are one
// entry.
type AllowList struct {
	values   map[string]bool
	domains  []string       // "@example.com": every address at the domain or below it
	prefixes []netip.Prefix // "203.0.113.0/24": every address in it
}

// ReadAllowList reads one entry per line; blank lines and lines starting
// with '#' are ignored. An entry is a value; "sha256:HEX", the value
// whose normalised form has that SHA-256, for lists that should not hold
// the values themselves; "@DOMAIN", every email address at the domain
// (example.com, reserved for documentation); or an IP prefix such as
// 203.0.113.0/24, every address in it.
func ReadAllowList(r io.Reader) (*AllowList, error) {
	a := &AllowList{values: map[string]bool{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if d, ok := strings.CutPrefix(line, "@"); ok && d != "" {
			a.domains = append(a.domains, strings.ToLower(d))
			continue
		}
		if p, err := netip.ParsePrefix(line); err == nil {
			a.prefixes = append(a.prefixes, p.Masked())
			continue
		}
		if h, ok := strings.CutPrefix(line, "sha256:"); ok {
			a.values["sha256:"+strings.ToLower(h)] = true
			continue
		}
		a.values[Normalize(line)] = true
	}
	return a, sc.Err()
}

// LoadAllowList reads an allow-list file.
func LoadAllowList(path string) (*AllowList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAllowList(f)
}

// Has reports whether v is allowed. A nil list allows nothing.
func (a *AllowList) Has(v string) bool {
	if a == nil {
		return false
	}
	if at := strings.LastIndexByte(v, '@'); at >= 0 {
		host := strings.ToLower(v[at+1:])
		for _, d := range a.domains {
			if host == d || strings.HasSuffix(host, "."+d) {
				return true
			}
		}
	}
	if len(a.prefixes) > 0 {
		ip, err := netip.ParseAddr(strings.Trim(v, "[]"))
		if err != nil {
			if ap, perr := netip.ParseAddrPort(v); perr == nil {
				ip, err = ap.Addr(), nil
			}
		}
		if err == nil {
			for _, p := range a.prefixes {
				if p.Contains(ip.Unmap()) {
					return true
				}
			}
		}
	}
	if len(a.values) == 0 {
		return false
	}
	n := Normalize(v)
	if a.values[n] {
		return true
	}
	sum := sha256.Sum256([]byte(n))
	return a.values["sha256:"+hex.EncodeToString(sum[:])]
}

// Normalize folds a value to the form compared: full-width to
// half-width, lower case, separators (spaces, dashes, dots in numbers,
// parentheses) dropped, and a +86/0086 country code before a mobile
// number removed. Letters, digits, '@' and '.' in an address stay.
func Normalize(v string) string {
	v = strings.Map(func(r rune) rune {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			return r - 0xFEE0
		}
		return r
	}, v)
	var b strings.Builder
	email := strings.Contains(v, "@")
	for _, r := range v {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case email && (r == '@' || r == '.' || r == '_' || r == '+' || r == '-'):
			b.WriteRune(r)
		case r == ':' && !email:
			b.WriteRune(r) // IPv6, MAC
		}
	}
	s := b.String()
	if !email {
		for _, cc := range []string{"0086", "86"} {
			if rest, ok := strings.CutPrefix(s, cc); ok && len(rest) == 11 && rest[0] == '1' {
				return rest
			}
		}
	}
	return s
}
