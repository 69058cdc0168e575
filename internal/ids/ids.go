// Package ids makes the identifiers Custos gives the records it creates
// (consent events, requests, deliveries, bundles, tasks).
package ids

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

// encoding is base32hex in lower case: its text sorts like its bytes.
var encoding = base32.HexEncoding.WithPadding(base32.NoPadding)

// New returns prefix followed by 48 bits of milliseconds and 80 random
// bits, in 26 characters. Ids sort by creation time, which keeps inserts at
// the right edge of an index: a batch of new rows dirties a few pages
// rather than one per row.
func New(prefix string) string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(b[6:])
	return prefix + strings.ToLower(encoding.EncodeToString(b[:]))
}
