package scan

import (
	"bufio"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/custos-privacy/custos/internal/detect"
)

// Redaction modes.
const (
	ModeMask = "mask" // 13812345678 → 138****5678 (Mask)
	ModeHash = "hash" // basic.phone:HMAC-SHA256(salt, normalised value), 16 hex digits
	ModeTag  = "tag"  // [basic.phone]
)

// RedactOptions tune Redact.
type RedactOptions struct {
	Mode          string
	Salt          []byte // ModeHash
	MinConfidence float64
	Allow         *AllowList
	// Decode replaces base64 that holds personal information (Options.Decode).
	Decode    bool
	ChunkSize int
}

// ErrBinary is returned for input with a NUL byte in its first 8 KB.
var ErrBinary = errors.New("binary input")

// Redact copies r to w with every value found replaced as Mode says, and
// every other byte unchanged. Values written masked and allow-listed ones
// are left. Gzip input gives gzip output. It reads line by line with
// bounded memory and returns how many values it replaced.
func Redact(r io.Reader, w io.Writer, opt RedactOptions) (int, error) {
	switch opt.Mode {
	case ModeMask, ModeTag:
	case ModeHash:
		if len(opt.Salt) == 0 {
			return 0, errors.New("hash mode needs a salt")
		}
	default:
		return 0, fmt.Errorf("unknown mode %q: want mask, hash or tag", opt.Mode)
	}
	br, gz, err := Decompress(r)
	if err != nil {
		return 0, err
	}
	if isBinary(br) {
		return 0, ErrBinary
	}
	var out io.Writer = w
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(w)
		out = zw
	}
	bw := bufio.NewWriter(out)
	chunk := opt.ChunkSize
	if chunk <= 0 {
		chunk = ChunkSize
	}
	n := 0
	err = eachSegment(br, chunk, func(seg segment) (int, error) {
		text, spans, own, consumed := segmentSpans(seg, opt.Decode)
		at := 0
		for _, sp := range spans[:own] {
			v := text[sp.Start:sp.End]
			if sp.Masked || sp.Confidence < opt.MinConfidence || opt.Allow.Has(v) {
				continue
			}
			bw.WriteString(text[at:sp.Start])
			bw.WriteString(replacement(opt, sp, v))
			at = sp.End
			n++
		}
		bw.WriteString(text[at:consumed])
		if seg.Final {
			bw.Write(seg.EOL)
		}
		return consumed, nil
	})
	if err != nil {
		return n, err
	}
	if err := bw.Flush(); err != nil {
		return n, err
	}
	if zw != nil {
		return n, zw.Close()
	}
	return n, nil
}

func replacement(opt RedactOptions, sp detect.Span, v string) string {
	switch opt.Mode {
	case ModeHash:
		return sp.Category + ":" + Hash(opt.Salt, v)
	case ModeTag:
		return "[" + sp.Category + "]"
	}
	return Mask(v)
}

// Hash is the first 16 hex digits of HMAC-SHA256(salt, Normalize(v)): the
// same person's value hashes alike however it was written.
func Hash(salt []byte, v string) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(Normalize(v)))
	return hex.EncodeToString(m.Sum(nil))[:16]
}
