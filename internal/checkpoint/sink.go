package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Sink is where checkpoints go: somewhere the database's writers cannot
// rewrite.
type Sink interface {
	// Append stores one checkpoint line durably, or fails.
	Append(ctx context.Context, line []byte) error
	// String names the sink for logs and messages.
	String() string
}

// Readable reports whether the checkpoints sent to target can be read
// back as anchors for verification: a file can, an endpoint cannot.
func Readable(target string) bool {
	return target != "" && !strings.Contains(target, "://")
}

// Open returns the sink target names: an https:// URL checkpoints are
// POSTed to (http:// only to this machine, for testing), or a file they are
// appended to.
func Open(target string) (Sink, error) {
	switch {
	case target == "":
		return nil, errors.New("checkpoints: no file or URL given")
	case strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "http://"):
		u, err := url.Parse(target)
		if err != nil || u.Host == "" {
			return nil, errors.New("checkpoints: the URL does not parse")
		}
		if u.Scheme == "http" && !loopback(u.Hostname()) {
			return nil, errors.New("checkpoints: an endpoint must be https:// (http:// only to localhost)")
		}
		return &HTTP{URL: target, Client: &http.Client{Timeout: 15 * time.Second}}, nil
	case strings.Contains(target, "://"):
		return nil, errors.New("checkpoints: give a file path or an https:// URL")
	}
	return &File{Path: target}, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// File appends checkpoints to a file, one line each, and syncs it before
// Append returns. The file is opened for each line, so that rotating it
// (move it away; the next line starts a new file) needs no signal.
type File struct {
	Path string
	mu   sync.Mutex // one line at a time from this process
}

func (f *File) String() string { return "file " + f.Path }

// Append writes line and a newline with one write on a file opened for
// appending, so that lines from several processes do not interleave.
func (f *File) Append(_ context.Context, line []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, statErr := os.Stat(f.Path)
	created := errors.Is(statErr, fs.ErrNotExist)
	file, err := os.OpenFile(f.Path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer file.Close()
	buf := make([]byte, 0, len(line)+2)
	// A line cut short by a crash would swallow the next one: start afresh.
	if info, err := file.Stat(); err == nil && info.Size() > 0 {
		last := make([]byte, 1)
		if _, err := file.ReadAt(last, info.Size()-1); err == nil && last[0] != '\n' {
			buf = append(buf, '\n')
		}
	}
	buf = append(append(buf, line...), '\n')
	if _, err := file.Write(buf); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := file.Sync(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if created {
		// The new file's name must survive a crash as well as its content.
		if d, err := os.Open(filepath.Dir(f.Path)); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
}

// HTTP POSTs each checkpoint line (application/json) to an endpoint that
// keeps it, such as a log collector or a write-once bucket's ingest. Any
// 2xx answer means it was kept.
type HTTP struct {
	URL    string
	Client *http.Client
}

func (h *HTTP) String() string { return "endpoint " + Redacted(h.URL) }

// Redacted shows a sink's target without what a URL may carry besides its
// scheme, host and path: a token in the query or in user information.
func Redacted(target string) string {
	if !strings.Contains(target, "://") {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		return "[a URL that does not parse]"
	}
	out := u.Scheme + "://" + u.Host + u.Path
	if u.RawQuery != "" {
		out += "?xxxxx"
	}
	return out
}

// Append posts line and waits for the endpoint's answer.
func (h *HTTP) Append(ctx context.Context, line []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(line))
	if err != nil {
		return fmt.Errorf("checkpoint: %s: cannot build the request", h)
	}
	req.Header.Set("Content-Type", "application/json")
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		// The URL may carry a token: keep the cause, not the URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("checkpoint: %s: %w", h, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("checkpoint: %s answered %d", h, resp.StatusCode)
	}
	return nil
}

// ForOrg names where organisation org's checkpoints go when the
// deployment's go to target: beside its file, as NAME.ORG.EXT
// (checkpoints.jsonl gives checkpoints.acme.jsonl), or to its URL with
// org=ORG in the query. Each organisation's chains are its own, signed
// with its own receipt key, and checked against its own checkpoints.
func ForOrg(target, org string) string {
	if target == "" {
		return ""
	}
	if strings.Contains(target, "://") {
		u, err := url.Parse(target)
		if err != nil {
			return target // Open reports it
		}
		q := u.Query()
		q.Set("org", org)
		u.RawQuery = q.Encode()
		return u.String()
	}
	ext := filepath.Ext(target)
	return strings.TrimSuffix(target, ext) + "." + org + ext
}
