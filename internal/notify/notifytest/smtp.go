// Package notifytest is a mail relay for tests: just enough SMTP to take
// messages, with STARTTLS and PLAIN authentication when asked, a
// certificate authority made for the test to trust it by, and the MIME
// decoding to read what it took. The notify package's own tests and the
// documentation's deployment test both deliver to it.
package notifytest

import (
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// SMTPOptions says what the relay offers.
type SMTPOptions struct {
	// Auth advertises AUTH PLAIN and records the decoded response.
	Auth bool
	// RcptReply, when set, answers RCPT with it instead of 250; %s in it is
	// the recipient, as real relays quote it.
	RcptReply string
	// TLS, when set, makes the relay offer STARTTLS with this configuration
	// (see NewCA). Without it the relay speaks only in the clear.
	TLS *tls.Config
}

// Session is what one connection to the relay carried.
type Session struct {
	// TLS says whether the session was upgraded by STARTTLS before the
	// message; TLSError is why an upgrade failed, when it did.
	TLS      bool
	TLSError string
	Auth     string // decoded PLAIN response: authzid NUL user NUL password
	From     string // MAIL argument, "FROM:<address>"
	Rcpt     []string
	// Data is the message, dot-stuffing undone, lines ending in LF; nil
	// when none was sent.
	Data []byte
}

// SMTP is a relay listening on a free loopback port until the test ends.
type SMTP struct {
	// Addr is host:port.
	Addr string

	opts     SMTPOptions
	stop     func()
	messages chan Session

	mu       sync.Mutex
	sessions []Session
}

// StartSMTP starts a relay for the test; it stops when the test ends.
func StartSMTP(t testing.TB, opts SMTPOptions) *SMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTP{Addr: ln.Addr().String(), opts: opts, messages: make(chan Session, 64)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	s.stop = sync.OnceFunc(func() {
		ln.Close()
		// A client that stalls must not hold the test: cut what is open.
		mu.Lock()
		for c := range conns {
			c.SetDeadline(time.Now().Add(5 * time.Second))
		}
		mu.Unlock()
		wg.Wait()
	})
	t.Cleanup(s.stop)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				s.serve(c)
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			})
		}
	})
	return s
}

// Received stops the relay, waits for its connections to end and returns
// what each carried, in the order they ended.
func (s *SMTP) Received() []Session {
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Session(nil), s.sessions...)
}

// Wait returns the next session that carried a message, waiting at most
// timeout for it; ok is false if none came.
func (s *SMTP) Wait(timeout time.Duration) (sess Session, ok bool) {
	select {
	case sess := <-s.messages:
		return sess, true
	case <-time.After(timeout):
		return Session{}, false
	}
}

func (s *SMTP) serve(c net.Conn) {
	var sess Session
	defer func() {
		c.Close()
		s.mu.Lock()
		s.sessions = append(s.sessions, sess)
		s.mu.Unlock()
		if sess.Data != nil {
			select {
			case s.messages <- sess:
			default: // nobody waits for that many
			}
		}
	}()
	c.SetDeadline(time.Now().Add(time.Minute))
	tp := textproto.NewConn(c)
	reply := func(line string) bool { return tp.PrintfLine("%s", line) == nil }
	if !reply("220 relay.test ESMTP") {
		return
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			lines := []string{"250-relay.test", "250-8BITMIME"}
			if s.opts.TLS != nil && !sess.TLS {
				lines = append(lines, "250-STARTTLS")
			}
			if s.opts.Auth {
				lines = append(lines, "250-AUTH PLAIN")
			}
			for _, l := range append(lines, "250 HELP") {
				reply(l)
			}
		case "HELO", "NOOP", "RSET":
			reply("250 OK")
		case "STARTTLS":
			if s.opts.TLS == nil || sess.TLS {
				reply("502 not implemented")
				continue
			}
			reply("220 2.0.0 ready to start TLS")
			tc := tls.Server(c, s.opts.TLS)
			if err := tc.Handshake(); err != nil {
				sess.TLSError = err.Error()
				return
			}
			// RFC 3207: the client starts afresh, with EHLO.
			c, tp = tc, textproto.NewConn(tc)
			sess = Session{TLS: true}
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			b, err := base64.StdEncoding.DecodeString(resp)
			if !s.opts.Auth || mech != "PLAIN" || err != nil {
				reply("504 unsupported")
				continue
			}
			sess.Auth = string(b)
			reply("235 2.7.0 Authentication successful")
		case "MAIL":
			sess.From = arg
			reply("250 OK")
		case "RCPT":
			if s.opts.RcptReply != "" {
				reply(strings.ReplaceAll(s.opts.RcptReply, "%s", strings.TrimPrefix(arg, "TO:")))
				continue
			}
			sess.Rcpt = append(sess.Rcpt, arg)
			reply("250 OK")
		case "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			sess.Data = data
			reply("250 2.0.0 queued")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}
