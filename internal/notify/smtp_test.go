package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"mime"
	"net/mail"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/notify/notifytest"
)

func TestSMTPSenderSends(t *testing.T) {
	longSubject := strings.Repeat("您的请求已完成，请查收。", 8)
	tests := []struct {
		name      string
		auth      bool
		starttls  bool // the relay offers STARTTLS and the sender uses it (the default mode)
		from      string
		msg       Message
		wantFrom  string // decoded From header
		wantParts []notifytest.Part
		wantAuth  string
	}{
		{
			name: "Chinese subject and body",
			from: "隐私团队 <privacy@example.com>",
			msg: Message{Channel: ChannelEmail, To: testEmail, Subject: "您的验证码", DeliveryID: "dl_test1",
				Text: "您的验证码是：482915\n.这一行以句点开头\n\n如非本人操作，请忽略。\n"},
			wantFrom:  "隐私团队 <privacy@example.com>",
			wantParts: []notifytest.Part{qpPart("text/plain; charset=utf-8", "您的验证码是：482915\n.这一行以句点开头\n\n如非本人操作，请忽略。\n")},
		},
		{
			name: "plain ASCII subject, authenticated",
			auth: true,
			from: "no-reply@example.com",
			msg: Message{Channel: ChannelEmail, To: testEmail, Subject: "Your verification code", DeliveryID: "dl_test2",
				Text: "Your verification code is 482915\n"},
			wantFrom:  "<no-reply@example.com>",
			wantParts: []notifytest.Part{qpPart("text/plain; charset=utf-8", "Your verification code is 482915\n")},
			wantAuth:  "\x00custos\x00s3cret",
		},
		{
			name:     "over STARTTLS, authenticated",
			auth:     true,
			starttls: true,
			from:     "隐私团队 <privacy@example.com>",
			msg: Message{Channel: ChannelEmail, To: testEmail, Subject: "您的验证码", DeliveryID: "dl_test4",
				Text: "您的验证码是：482915\n"},
			wantFrom:  "隐私团队 <privacy@example.com>",
			wantParts: []notifytest.Part{qpPart("text/plain; charset=utf-8", "您的验证码是：482915\n")},
			wantAuth:  "\x00custos\x00s3cret",
		},
		{
			name: "long subject and an HTML part",
			from: "no-reply@example.com",
			msg: Message{Channel: ChannelEmail, To: testEmail, Subject: longSubject, DeliveryID: "dl_test3",
				Text: "完成。\n", HTML: "<p>完成。</p>\n"},
			wantFrom: "<no-reply@example.com>",
			wantParts: []notifytest.Part{
				qpPart("text/plain; charset=utf-8", "完成。\n"),
				qpPart("text/html; charset=utf-8", "<p>完成。</p>\n"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := notifytest.SMTPOptions{Auth: tt.auth}
			s := &SMTPSender{From: tt.from, TLS: NoTLS}
			if tt.starttls {
				ca := notifytest.NewCA(t, "127.0.0.1")
				opts.TLS = ca.Server
				s.TLS, s.TLSConfig = "", &tls.Config{RootCAs: ca.Pool}
			}
			srv := notifytest.StartSMTP(t, opts)
			s.Addr = srv.Addr
			if tt.auth {
				s.Username, s.Password = "custos", "s3cret"
			}
			if err := s.Send(context.Background(), tt.msg); err != nil {
				t.Fatal(err)
			}
			got := srv.Received()
			if len(got) != 1 {
				t.Fatalf("server saw %d sessions, want 1", len(got))
			}
			sess := got[0]
			if sess.TLS != tt.starttls {
				t.Errorf("session over TLS: %v, want %v", sess.TLS, tt.starttls)
			}
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
			parts, err := notifytest.Parts(m.Header, m.Body)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.wantParts, parts); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
		})
	}
}

// qpPart is a text part as buildMessage writes it: quoted-printable.
func qpPart(ctype, body string) notifytest.Part {
	return notifytest.Part{ContentType: ctype, Encoding: "quoted-printable", Body: body}
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
		// certHosts, when set, makes the relay offer STARTTLS with a
		// certificate for these hosts from a test CA, which the sender
		// trusts if trustCA.
		certHosts []string
		trustCA   bool
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
			name:      "STARTTLS with a certificate no root vouches for",
			sender:    func(a string) *SMTPSender { return &SMTPSender{Addr: a, From: "no-reply@example.com"} },
			certHosts: []string{"127.0.0.1"},
			want:      "smtp STARTTLS: tls: failed to verify certificate: x509: certificate signed by unknown authority",
		},
		{
			name:      "STARTTLS with a certificate for another host",
			sender:    func(a string) *SMTPSender { return &SMTPSender{Addr: a, From: "no-reply@example.com"} },
			certHosts: []string{"relay.example.net"},
			trustCA:   true,
			want:      "x509: cannot validate certificate for 127.0.0.1",
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
			opts := notifytest.SMTPOptions{RcptReply: tt.rcptReply}
			var ca *notifytest.CA
			if tt.certHosts != nil {
				ca = notifytest.NewCA(t, tt.certHosts...)
				opts.TLS = ca.Server
			}
			srv := notifytest.StartSMTP(t, opts)
			to := tt.to
			if to == "" {
				to = testEmail
			}
			s := tt.sender(srv.Addr)
			if tt.trustCA {
				s.TLSConfig = &tls.Config{RootCAs: ca.Pool}
			}
			err := s.Send(context.Background(), Message{Channel: ChannelEmail, To: to, Subject: "s", Text: "code " + testCode})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Send error = %v, want one containing %q", err, tt.want)
			}
			if errors.Is(err, ErrPermanent) != tt.permanent {
				t.Errorf("errors.Is(ErrPermanent) = %v, want %v", !tt.permanent, tt.permanent)
			}
			if strings.Contains(err.Error(), "li.lei") || strings.Contains(err.Error(), testCode) {
				t.Errorf("error quotes the recipient or the message: %v", err)
			}
			for _, sess := range srv.Received() {
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
