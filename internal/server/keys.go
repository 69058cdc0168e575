package server

import (
	"crypto/hmac"
	"crypto/sha256"
)

// deriveKey derives a purpose-specific key from a root key, so one secret
// can key several things without one use weakening another.
func deriveKey(root []byte, label string) []byte {
	m := hmac.New(sha256.New, root)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// ackKey makes and checks the tokens with which recipients acknowledge
// their notices (propagate.AckToken): derived, so that no new secret is
// needed and the tokens of every instance agree.
func ackKey(auditKey []byte) []byte {
	if len(auditKey) == 0 {
		return nil
	}
	return deriveKey(auditKey, "custos recipient acknowledgement v1")
}

// priorAckKeys are the acknowledgement keys of the identity keys rotated
// out, newest first: notices sent before a rotation stay acknowledgeable.
func priorAckKeys(keys Keys) [][]byte {
	var out [][]byte
	for i := len(keys.PriorAuditKeys) - 1; i >= 0; i-- {
		out = append(out, ackKey(keys.PriorAuditKeys[i]))
	}
	return out
}

// AuditKey is the audit chain key derived from the identity key.
func AuditKey(identityKey []byte) []byte { return deriveKey(identityKey, "custos audit chain v1") }

// VaultKey keys the tokens that stand for vault values in joins, derived
// from the identity key.
func VaultKey(identityKey []byte) []byte { return deriveKey(identityKey, "custos vault token v1") }
