package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// TLSMode says how an SMTPSender protects the connection.
type TLSMode string

const (
	// StartTLS connects in the clear and upgrades with STARTTLS (port 587);
	// a server that does not offer it is refused. The default.
	StartTLS TLSMode = "starttls"
	// ImplicitTLS connects over TLS from the start (port 465).
	ImplicitTLS TLSMode = "tls"
	// NoTLS sends in the clear, and is allowed only to a relay on the
	// loopback interface: messages carry addresses and one-time codes.
	NoTLS TLSMode = "none"
)

const smtpTimeout = 2 * time.Minute

// SMTPSender sends email through a mail server. Password is never logged:
// LogValue leaves it out.
type SMTPSender struct {
	Addr      string      // host:port
	From      string      // "Name <address>" or a bare address
	Username  string      // PLAIN auth if set; net/smtp allows it only over TLS or to localhost
	Password  string      // secret
	TLS       TLSMode     // default StartTLS
	TLSConfig *tls.Config // optional, e.g. custom roots; ServerName defaults to the host
	LocalName string      // name given in EHLO; default "localhost"
}

// LogValue shows the sender's settings without the password.
func (s *SMTPSender) LogValue() slog.Value {
	pw := ""
	if s.Password != "" {
		pw = "[redacted]"
	}
	return slog.GroupValue(slog.String("addr", s.Addr), slog.String("from", s.From),
		slog.String("username", s.Username), slog.String("password", pw), slog.String("tls", string(s.mode())))
}

func (s *SMTPSender) mode() TLSMode {
	if s.TLS == "" {
		return StartTLS
	}
	return s.TLS
}

// Send implements Sender. Replies of the server are reported by code only:
// their text often quotes the recipient. A 5xx reply to RCPT or DATA is
// permanent; to anything else it is a configuration problem, worth retrying
// once that is fixed.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("notify: smtp: server address %q is not host:port", s.Addr)
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return errors.New("notify: smtp: From is not an email address")
	}
	if err := validAddress(ChannelEmail, m.To); err != nil {
		return fmt.Errorf("notify: smtp: recipient: %w: %w", ErrPermanent, err)
	}
	mode := s.mode()
	switch mode {
	case StartTLS, ImplicitTLS:
	case NoTLS:
		if !isLoopback(host) {
			return fmt.Errorf("notify: smtp: TLS mode none is allowed only to a relay on localhost, not %s", host)
		}
	default:
		return fmt.Errorf("notify: smtp: unknown TLS mode %q", mode)
	}
	msg, err := buildMessage(from, m, time.Now())
	if err != nil {
		return err
	}

	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(smtpTimeout)
	}
	nd := &net.Dialer{Deadline: deadline}
	var conn net.Conn
	if mode == ImplicitTLS {
		conn, err = (&tls.Dialer{NetDialer: nd, Config: s.tlsConfig(host)}).DialContext(ctx, "tcp", s.Addr)
	} else {
		conn, err = nd.DialContext(ctx, "tcp", s.Addr)
	}
	if err != nil {
		return fmt.Errorf("notify: smtp: connect: %w", err)
	}
	conn.SetDeadline(deadline)
	// net/smtp does not watch ctx; an expired deadline unblocks it.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return smtpErr("greeting", err)
	}
	defer c.Close()
	if s.LocalName != "" {
		if err := c.Hello(s.LocalName); err != nil {
			return smtpErr("EHLO", err)
		}
	}
	if mode == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("notify: smtp: server does not offer STARTTLS; refusing to send in the clear")
		}
		if err := c.StartTLS(s.tlsConfig(host)); err != nil {
			return smtpErr("STARTTLS", err)
		}
	}
	if s.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("notify: smtp: server does not offer AUTH")
		}
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return smtpErr("AUTH", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return smtpErr("MAIL", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return smtpErr("RCPT", err)
	}
	w, err := c.Data()
	if err != nil {
		return smtpErr("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpErr("DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpErr("DATA", err)
	}
	// The server has accepted the message; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

func (s *SMTPSender) tlsConfig(host string) *tls.Config {
	var c *tls.Config
	if s.TLSConfig != nil {
		c = s.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName = host
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

func smtpErr(op string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		if te.Code >= 500 && (op == "RCPT" || op == "DATA") {
			return fmt.Errorf("notify: smtp %s: server replied %d: %w", op, te.Code, ErrPermanent)
		}
		return fmt.Errorf("notify: smtp %s: server replied %d", op, te.Code)
	}
	return fmt.Errorf("notify: smtp %s: %w", op, err)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// buildMessage writes an RFC 5322 message: UTF-8 text, quoted-printable,
// the subject as RFC 2047 encoded words, and multipart/alternative when
// there is an HTML body.
func buildMessage(from *mail.Address, m Message, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", (&mail.Address{Address: m.To}).String())
	header("Subject", encodeSubject(m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(m.DeliveryID, from.Address))
	header("MIME-Version", "1.0")
	// RFC 3834: tells auto-responders not to answer.
	header("Auto-Submitted", "auto-generated")
	const textType = "text/plain; charset=utf-8"
	if m.HTML == "" {
		header("Content-Type", textType)
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, m.Text); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	for _, p := range []struct{ ctype, body string }{{textType, m.Text}, {"text/html; charset=utf-8", m.HTML}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		if err := writeQP(pw, p.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeSubject encodes a subject as RFC 2047 words where it needs it, one
// word (at most 75 characters) per folded line, so a long subject never
// comes near the 998-character line limit of RFC 5322.
func encodeSubject(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(mime.QEncoding.Encode("utf-8", s), "?= =?", "?=\r\n =?")
}

func writeQP(w io.Writer, text string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, text); err != nil {
		return err
	}
	return qp.Close()
}

// messageID is the delivery id at the sender's domain, so every attempt of
// one delivery carries the same id and a receiver can drop a duplicate.
func messageID(deliveryID, from string) string {
	domain := "localhost"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	local := deliveryID
	if local == "" {
		var r [12]byte
		rand.Read(r[:])
		local = hex.EncodeToString(r[:])
	}
	return "<" + local + "@" + domain + ">"
}
