package propagate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// AckPath is where a recipient acknowledges a notice: POST to
// AckPath + token (a GET shows the notice's state without recording).
const AckPath = "/v1/public/acknowledgements/"

// ackTokenMAC is the length kept of the token's MAC: 256 bits.
const ackTokenMAC = sha256.Size

// AckToken is the credential a notice carries for its recipient to
// acknowledge it: the task id, ".", and base64url(HMAC-SHA256(key, label +
// task id)). It is bound to the one task, reveals nothing about the
// subject (task ids are random), and needs no storage: the server checks
// it by computing it again. key is the server's acknowledgement key.
func AckToken(key []byte, taskID string) string {
	return taskID + "." + base64.RawURLEncoding.EncodeToString(ackMAC(key, taskID))
}

// CheckAckToken returns the task id token acknowledges, or false for a
// token not made with key. The MAC is compared in constant time.
func CheckAckToken(key []byte, token string) (string, bool) {
	if len(key) == 0 || len(token) > 200 {
		return "", false
	}
	id, enc, ok := strings.Cut(token, ".")
	if !ok || id == "" {
		return "", false
	}
	// The decoder skips line breaks; a token is only ever spelled the one
	// way it was issued, so anything else is not one.
	mac, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil || len(mac) != ackTokenMAC || base64.RawURLEncoding.EncodeToString(mac) != enc {
		return "", false
	}
	if !hmac.Equal(mac, ackMAC(key, id)) {
		return "", false
	}
	return id, true
}

// CheckAckTokenUnder is CheckAckToken under the current key, then under
// each earlier one: a token stays good when the key it was made under has
// been rotated out (a notice sent before the rotation).
func CheckAckTokenUnder(current []byte, prior [][]byte, token string) (string, bool) {
	if id, ok := CheckAckToken(current, token); ok {
		return id, true
	}
	for _, k := range prior {
		if id, ok := CheckAckToken(k, token); ok {
			return id, true
		}
	}
	return "", false
}

func ackMAC(key []byte, taskID string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("custos recipient acknowledgement v1\x00" + taskID))
	return m.Sum(nil)[:ackTokenMAC]
}
