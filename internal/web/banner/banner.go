// Package banner serves the embeddable consent banner (/banner.js) and, for
// demo mode, a small shop page that uses it (/demo/shop/).
package banner

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed banner.js
var script []byte

//go:embed demo
var demo embed.FS

// Script returns the banner's source, as served.
func Script() []byte { return script }

// asset is a file served with a strong ETag, gzipped once.
type asset struct {
	body, gz    []byte
	etag, gzTag string
	ctype       string
	cache       string
}

func newAsset(body []byte, ctype, cache string) *asset {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(body)
	zw.Close()
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:12])
	return &asset{body: body, gz: buf.Bytes(), etag: `"` + tag + `"`, gzTag: `"` + tag + `-gz"`, ctype: ctype, cache: cache}
}

func (a *asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", a.cache)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	body, tag := a.body, a.etag
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, tag = a.gz, a.gzTag
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", tag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatch(match, a.etag, a.gzTag) {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q = strings.ReplaceAll(strings.TrimSpace(q), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

func etagMatch(header string, tags ...string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		for _, want := range tags {
			if t == want || t == "*" {
				return true
			}
		}
	}
	return false
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// Handler serves GET /banner.js. Sites embed it from another origin, so it
// is cacheable for a short while and revalidated by ETag: a new release
// reaches every site within minutes.
func Handler() http.Handler {
	a := newAsset(script, "text/javascript; charset=utf-8", "public, max-age=300")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		a.ServeHTTP(w, r)
	})
}

// DemoShop serves the demo shop under /demo/shop/: a page with the banner's
// script tag and two tagged scripts (analytics and advertising) that run
// only once their category is allowed. Everything is an external file, so
// the page works under a CSP without 'unsafe-inline'.
func DemoShop() http.Handler {
	const prefix = "/demo/shop/"
	types := map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	files := map[string]*asset{}
	fs.WalkDir(demo, "demo", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := demo.ReadFile(path)
		name := strings.TrimPrefix(path, "demo/")
		ext := name[strings.LastIndexByte(name, '.'):]
		files[name] = newAsset(b, types[ext], "no-cache")
		return nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, prefix)
		if r.URL.Path == "/demo/shop" {
			http.Redirect(w, r, prefix, http.StatusMovedPermanently)
			return
		}
		if name == "" {
			name = "index.html"
		}
		a := files[name]
		if !ok || a == nil {
			http.NotFound(w, r)
			return
		}
		a.ServeHTTP(w, r)
	})
}
