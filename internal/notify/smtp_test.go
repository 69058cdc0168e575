package notify

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeSMTP is just enough of an SMTP server to receive one message per
// connection: no TLS, PLAIN auth if asked.
type fakeSMTP struct {
	addr      string
	auth      bool   // advertise AUTH PLAIN
	rcptReply string // reply to RCPT instead of 250; %s is the recipient
	stop      func()

	mu       sync.Mutex
	sessions []smtpSession
}

type smtpSession struct {
	Auth string // decoded PLAIN response
	From string
	Rcpt []string
	Data []byte // dot-stuffing undone, lines ending in LF
}

func startFakeSMTP(t *testing.T, auth bool, rcptReply string) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeSMTP{addr: ln.Addr().String(), auth: auth, rcptReply: rcptReply}
	var wg sync.WaitGroup
	s.stop = sync.OnceFunc(func() { ln.Close(); wg.Wait() })
	t.Cleanup(s.stop)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

func (s *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	var sess smtpSession
	defer func() {
		s.mu.Lock()
		s.sessions = append(s.sessions, sess)
		s.mu.Unlock()
	}()
	reply := func(line string) bool { return tp.PrintfLine("%s", line) == nil }
	if !reply("220 fake.test ESMTP") {
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
			lines := []string{"250-fake.test", "250-8BITMIME"}
			if s.auth {
				lines = append(lines, "250-AUTH PLAIN")
			}
			for _, l := range append(lines, "250 HELP") {
				reply(l)
			}
		case "HELO", "NOOP", "RSET":
			reply("250 OK")
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			b, err := base64.StdEncoding.DecodeString(resp)
			if !s.auth || mech != "PLAIN" || err != nil {
				reply("504 unsupported")
				continue
			}
			sess.Auth = string(b)
			reply("235 2.7.0 Authentication successful")
		case "MAIL":
			sess.From = arg
			reply("250 OK")
		case "RCPT":
			if s.rcptReply != "" {
				reply(strings.ReplaceAll(s.rcptReply, "%s", strings.TrimPrefix(arg, "TO:")))
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

// received stops the server, waits for its connections to end and returns
// what they received.
func (s *fakeSMTP) received() []smtpSession {
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpSession(nil), s.sessions...)
}

// decodedPart is a text part of a received message, transfer encoding undone.
type decodedPart struct {
	ContentType string
	Body        string
}

func readParts(t *testing.T, h mail.Header, body io.Reader) []decodedPart {
	t.Helper()
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		if cte := h.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
			t.Errorf("Content-Transfer-Encoding = %q, want quoted-printable", cte)
		}
		b, err := io.ReadAll(quotedprintable.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return []decodedPart{{h.Get("Content-Type"), strings.ReplaceAll(string(b), "\r\n", "\n")}}
	}
	var parts []decodedPart
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, readParts(t, mail.Header(p.Header), p)...)
	}
}

func TestSMTPSenderSends(t *testing.T) {
	longSubject := strings.Repeat("您的请求已完成，请查收。", 8)
	tests := []struct {
		name      string
		auth      bool
		from      string
		msg       Message
		wantFrom  string // decoded From header
		wantParts []decodedPart
		wantAuth  string
	}{
		{
			name: "Chinese subject and body",
			from: "隐私团队 <privacy@example.com>",
			msg: Message{Channel: ChannelEmail, To: testEmail, Subject: "您的验证码", DeliveryID: "dl_test1",
				Text: "您的验证码是：482915\n.这一行以句点开头\n\n如非本人操作，请忽略。\n"},
			wantFrom:  "隐私团队 <privacy@example.com>",
			wantParts: []decodedPart{{"text/plain; charset=utf-8", "您的验证码是：482915\n.这一行以句点开头\n\n如非本人操作，请忽略。\n"}},
		},
		{
			name: "plain ASCII subject, authenticated",
			auth: true,
			from: "no-reply@example.com",
			msg: Message{Channel: ChannelEmail, To: testEmail, Subject: "Your verification code", DeliveryID: "dl_test2",
				Text: "Your verification code is 482915\n"},
			wantFrom:  "<no-reply@example.com>",
			wantParts: []decodedPart{{"text/plain; charset=utf-8", "Your verification code is 482915\n"}},
			wantAuth:  "\x00custos\x00s3cret",
		},
		{
			name: "long subject and an HTML part",
			from: "no-reply@example.com",
			msg: Message{Channel: ChannelEmail, To: testEmail, Subject: longSubject, DeliveryID: "dl_test3",
				Text: "完成。\n", HTML: "<p>完成。</p>\n"},
			wantFrom: "<no-reply@example.com>",
			wantParts: []decodedPart{
				{"text/plain; charset=utf-8", "完成。\n"},
				{"text/html; charset=utf-8", "<p>完成。</p>\n"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFakeSMTP(t, tt.auth, "")
			s := &SMTPSender{Addr: srv.addr, From: tt.from, TLS: NoTLS}
			if tt.auth {
				s.Username, s.Password = "custos", "s3cret"
			}
			if err := s.Send(context.Background(), tt.msg); err != nil {
				t.Fatal(err)
			}
			got := srv.received()
			if len(got) != 1 {
				t.Fatalf("server saw %d sessions, want 1", len(got))
			}
			sess := got[0]
			if sess.Auth != tt.wantAuth {
				t.Errorf("AUTH PLAIN = %q, want %q", sess.Auth, tt.wantAuth)
			}
			fromAddr, _ := mail.ParseAddress(tt.from)
			if !strings.HasPrefix(sess.From, "FROM:<"+fromAddr.Address+">") {
				t.Errorf("MAIL %s, want FROM:<%s>", sess.From, fromAddr.Address)
			}
			if d := cmp.Diff([]string{"TO:<" + testEmail + ">"}, sess.Rcpt); d != "" {
				t.Errorf("RCPT (-want +got):\n%s", d)
			}
			var subjectLines int
			for i, line := range strings.Split(string(sess.Data), "\n") {
				if len(line) > 998 {
					t.Errorf("line %d is %d long, over the RFC 5322 limit", i+1, len(line))
				}
				if strings.HasPrefix(line, "Subject: ") || subjectLines > 0 && strings.HasPrefix(line, " =?") {
					subjectLines++
					if len(line) > len("Subject: ")+75 {
						t.Errorf("subject line %q is longer than one encoded word", line)
					}
				}
			}
			if wantFolded := len(tt.msg.Subject) > 100; wantFolded != (subjectLines > 1) {
				t.Errorf("Subject header spans %d lines, want it folded: %v", subjectLines, wantFolded)
			}
			m, err := mail.ReadMessage(bytes.NewReader(sess.Data))
			if err != nil {
				t.Fatal(err)
			}
			rawSubject := m.Header.Get("Subject")
			if !isASCII(tt.msg.Subject) && !strings.HasPrefix(rawSubject, "=?utf-8?q?") {
				t.Errorf("Subject header %q is not RFC 2047 UTF-8", rawSubject)
			}
			dec := new(mime.WordDecoder)
			subject, err := dec.DecodeHeader(rawSubject)
			if err != nil || subject != tt.msg.Subject {
				t.Errorf("decoded Subject = %q, %v; want %q", subject, err, tt.msg.Subject)
			}
			from, err := dec.DecodeHeader(m.Header.Get("From"))
			if err != nil || from != tt.wantFrom {
				t.Errorf("decoded From = %q, %v; want %q", from, err, tt.wantFrom)
			}
			headers := map[string]string{
				"To":             m.Header.Get("To"),
				"Message-ID":     m.Header.Get("Message-ID"),
				"MIME-Version":   m.Header.Get("MIME-Version"),
				"Auto-Submitted": m.Header.Get("Auto-Submitted"),
			}
			wantHeaders := map[string]string{
				"To":             "<" + testEmail + ">",
				"Message-ID":     "<" + tt.msg.DeliveryID + "@example.com>",
				"MIME-Version":   "1.0",
				"Auto-Submitted": "auto-generated",
			}
			if d := cmp.Diff(wantHeaders, headers); d != "" {
				t.Errorf("headers (-want +got):\n%s", d)
			}
			if _, err := m.Header.Date(); err != nil {
				t.Errorf("Date header: %v", err)
			}
			if d := cmp.Diff(tt.wantParts, readParts(t, m.Header, m.Body)); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
		})
	}
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestSMTPSenderErrors(t *testing.T) {
	tests := []struct {
		name      string
		rcptReply string
		sender    func(addr string) *SMTPSender
		to        string
		want      string // in the error
		permanent bool
		wantMail  bool // whether the server got as far as a message
	}{
		{
			name:      "recipient rejected, reply quoting it",
			rcptReply: "550 5.1.1 %s: Recipient address rejected",
			sender:    func(a string) *SMTPSender { return &SMTPSender{Addr: a, From: "no-reply@example.com", TLS: NoTLS} },
			want:      "smtp RCPT: server replied 550", permanent: true,
		},
		{
			name:      "recipient deferred",
			rcptReply: "451 4.7.1 %s: try again later",
			sender:    func(a string) *SMTPSender { return &SMTPSender{Addr: a, From: "no-reply@example.com", TLS: NoTLS} },
			want:      "smtp RCPT: server replied 451",
		},
		{
			name:   "STARTTLS required but not offered",
			sender: func(a string) *SMTPSender { return &SMTPSender{Addr: a, From: "no-reply@example.com"} },
			want:   "does not offer STARTTLS",
		},
		{
			name: "auth but none offered",
			sender: func(a string) *SMTPSender {
				return &SMTPSender{Addr: a, From: "no-reply@example.com", TLS: NoTLS, Username: "u", Password: "p"}
			},
			want: "does not offer AUTH",
		},
		{
			name: "clear text to a remote relay",
			sender: func(string) *SMTPSender {
				return &SMTPSender{Addr: "mail.example.net:25", From: "no-reply@example.com", TLS: NoTLS}
			},
			want: "only to a relay on localhost",
		},
		{
			name:   "recipient with a line break",
			sender: func(a string) *SMTPSender { return &SMTPSender{Addr: a, From: "no-reply@example.com", TLS: NoTLS} },
			to:     testEmail + "\r\nRCPT TO:<eve@example.net>",
			want:   "recipient", permanent: true,
		},
		{
			name:   "unknown TLS mode",
			sender: func(a string) *SMTPSender { return &SMTPSender{Addr: a, From: "no-reply@example.com", TLS: "maybe"} },
			want:   `unknown TLS mode "maybe"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFakeSMTP(t, false, tt.rcptReply)
			to := tt.to
			if to == "" {
				to = testEmail
			}
			err := tt.sender(srv.addr).Send(context.Background(), Message{Channel: ChannelEmail, To: to, Subject: "s", Text: "code " + testCode})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Send error = %v, want one containing %q", err, tt.want)
			}
			if errors.Is(err, ErrPermanent) != tt.permanent {
				t.Errorf("errors.Is(ErrPermanent) = %v, want %v", !tt.permanent, tt.permanent)
			}
			if strings.Contains(err.Error(), "li.lei") || strings.Contains(err.Error(), testCode) {
				t.Errorf("error quotes the recipient or the message: %v", err)
			}
			for _, sess := range srv.received() {
				if sess.Data != nil || len(sess.Rcpt) > 0 {
					t.Errorf("server accepted a recipient or a message: %+v", sess)
				}
			}
		})
	}
}

func TestSMTPSenderLogValueHidesPassword(t *testing.T) {
	var buf bytes.Buffer
	s := &SMTPSender{Addr: "smtp.example.com:587", From: "no-reply@example.com", Username: "custos", Password: "hunter2-very-secret"}
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("configured", "smtp", s)
	if strings.Contains(buf.String(), "hunter2") || !strings.Contains(buf.String(), `"password":"[redacted]"`) ||
		!strings.Contains(buf.String(), `"addr":"smtp.example.com:587"`) {
		t.Errorf("log = %s, want settings with the password redacted", buf.String())
	}
}
