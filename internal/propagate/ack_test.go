package propagate

import (
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/store"
)

func TestAckToken(t *testing.T) {
	key := []byte("acknowledgement-key-for-tests-32")
	tok := AckToken(key, "rt_01abc")
	if id, ok := CheckAckToken(key, tok); !ok || id != "rt_01abc" {
		t.Fatalf("CheckAckToken(AckToken) = %q, %v", id, ok)
	}
	if strings.Contains(tok, rawSubject) || len(tok) < len("rt_01abc.")+40 {
		t.Errorf("token %q", tok)
	}
	other := AckToken(key, "rt_01abd")
	_, mac, _ := strings.Cut(other, ".")
	for _, tc := range []struct {
		name  string
		key   []byte
		token string
	}{
		{"another key", []byte("another-key"), tok},
		{"no key", nil, tok},
		{"another task's MAC", key, "rt_01abc." + mac},
		{"truncated MAC", key, tok[:len(tok)-2]},
		{"no MAC", key, "rt_01abc"},
		{"empty", key, ""},
		{"no id", key, "." + mac},
		{"not base64", key, "rt_01abc.!!!!"},
		{"too long", key, tok + strings.Repeat("A", 200)},
	} {
		if id, ok := CheckAckToken(tc.key, tc.token); ok {
			t.Errorf("%s: accepted as %q", tc.name, id)
		}
	}
}

func FuzzCheckAckToken(f *testing.F) {
	key := []byte("k")
	f.Add(AckToken(key, "rt_1"))
	f.Add("rt_1.")
	f.Add(".")
	f.Fuzz(func(t *testing.T, token string) {
		id, ok := CheckAckToken(key, token)
		if ok && AckToken(key, id) != token {
			t.Errorf("accepted %q, which is not the token of %q", token, id)
		}
	})
}

// TestNoticeFieldsLink: with the server's public URL a notice carries the
// full link to acknowledge it; without it, the path alone.
func TestNoticeFieldsLink(t *testing.T) {
	key := []byte("acknowledgement-key-for-tests-32")
	task := store.RecipientTask{ID: "rt_01abc", Action: "deletion", Recipient: "acme"}
	tok := AckToken(key, task.ID)
	tests := []struct{ base, want string }{
		{"https://privacy.example.com", "https://privacy.example.com" + AckPath + tok},
		{"https://privacy.example.com/", "https://privacy.example.com" + AckPath + tok},
		{"", ""},
	}
	for _, tt := range tests {
		p := &Propagator{AckKey: key, BaseURL: tt.base, Secret: []byte("s")}
		f := p.NoticeFields(task, "subject-1")
		if f["ack_url"] != tt.want || f["ack_path"] != AckPath+tok {
			t.Errorf("base %q: ack_url %q, ack_path %q; want %q", tt.base, f["ack_url"], f["ack_path"], tt.want)
		}
	}
}

// TestAckTokenAfterRotation: a token made under a key since rotated out is
// still good; one under no key of the list is not.
func TestAckTokenAfterRotation(t *testing.T) {
	old, older, now := []byte("acknowledgement-key-old-32-bytes"), []byte("acknowledgement-key-older-32-byt"), []byte("acknowledgement-key-new-32-bytes")
	for _, tt := range []struct {
		name  string
		key   []byte
		prior [][]byte
		ok    bool
	}{
		{"current key", now, nil, true},
		{"made before the last rotation", old, [][]byte{old, older}, true},
		{"made two rotations ago", older, [][]byte{old, older}, true},
		{"under a key not kept", older, [][]byte{old}, false},
	} {
		tok := AckToken(tt.key, "rt_01abc")
		if id, ok := CheckAckTokenUnder(now, tt.prior, tok); ok != tt.ok || ok && id != "rt_01abc" {
			t.Errorf("%s: %q, %v; want %v", tt.name, id, ok, tt.ok)
		}
	}
}
