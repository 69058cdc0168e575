package operator

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	p := Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}
	h1, err := HashPassword("correct horse battery", p)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("correct horse battery", p)
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not a PHC argon2id string with its parameters", h1)
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal: the salt is not per password")
	}
	if strings.Contains(h1, "horse") {
		t.Error("the hash contains the password")
	}
	for _, tc := range []struct {
		hash, pw string
		ok       bool
		bad      bool
	}{
		{h1, "correct horse battery", true, false},
		{h2, "correct horse battery", true, false},
		{h1, "correct horse batterY", false, false},
		{h1, "", false, false},
		{"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "x", false, true},
		{"plaintext", "plaintext", false, true},
		{strings.Replace(h1, "m=64", "m=99999999", 1), "correct horse battery", false, true},
	} {
		ok, err := CheckPassword(tc.hash, tc.pw)
		if ok != tc.ok || (err != nil) != tc.bad {
			t.Errorf("CheckPassword(%.30q, %q) = %v, %v; want %v, error %v", tc.hash, tc.pw, ok, err, tc.ok, tc.bad)
		}
	}
}
