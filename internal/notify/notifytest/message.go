package notifytest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Part is a leaf part of a received message, its transfer encoding undone.
type Part struct {
	ContentType string
	Encoding    string // Content-Transfer-Encoding as sent
	Body        string // lines end in LF
}

// ReadMessage reads a message as the relay took it (Session.Data): its
// header, and its leaf parts in order (one for a message that is not
// multipart).
func ReadMessage(data []byte) (mail.Header, []Part, error) {
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("read message: %w", err)
	}
	parts, err := Parts(m.Header, m.Body)
	return m.Header, parts, err
}

// Parts decodes the leaf parts of a body whose header is h, descending
// into multipart ones.
func Parts(h mail.Header, body io.Reader) ([]Part, error) {
	ctype := h.Get("Content-Type")
	if ctype == "" {
		ctype = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return nil, fmt.Errorf("Content-Type %q: %w", ctype, err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		enc := h.Get("Content-Transfer-Encoding")
		var r io.Reader
		switch strings.ToLower(enc) {
		case "quoted-printable":
			r = quotedprintable.NewReader(body)
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, body) // line breaks are skipped
		case "", "7bit", "8bit", "binary":
			r = body
		default:
			return nil, fmt.Errorf("Content-Transfer-Encoding %q", enc)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("%s part: %w", mt, err)
		}
		return []Part{{ContentType: ctype, Encoding: enc, Body: strings.ReplaceAll(string(b), "\r\n", "\n")}}, nil
	}
	var parts []Part
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", mt, err)
		}
		sub, err := Parts(mail.Header(p.Header), p)
		if err != nil {
			return nil, err
		}
		parts = append(parts, sub...)
	}
}
