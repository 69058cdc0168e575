package notify

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestFileSender(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	s := &FileSender{Dir: dir}
	msgs := []Message{
		{Channel: ChannelEmail, To: testEmail, Subject: "您的验证码", Text: "您的验证码是：482915\n", DeliveryID: "dl_1"},
		{Channel: ChannelSMS, To: testPhone, Text: "Your code is 482915", DeliveryID: "dl_2"},
	}
	before := time.Now().Add(-time.Second)
	for _, m := range msgs {
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, FileName)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []FileLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l FileLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if l.Time.Before(before) || l.Time.After(time.Now()) {
			t.Errorf("time = %v, want now", l.Time)
		}
		got = append(got, l)
	}
	want := []FileLine{
		{DeliveryID: "dl_1", Channel: ChannelEmail, To: testEmail, Subject: "您的验证码", Text: "您的验证码是：482915\n"},
		{DeliveryID: "dl_2", Channel: ChannelSMS, To: testPhone, Text: "Your code is 482915"},
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(FileLine{}, "Time")); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}
	for p, mode := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("mode of %s = %v, %v; want %v", p, fi.Mode().Perm(), err, mode)
		}
	}

	// A file left readable by others is closed up on the next write.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), msgs[1]); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after a write = %v, want 0600", fi.Mode().Perm())
	}
}

func TestMultiSender(t *testing.T) {
	email, sms := &fakeSender{}, &fakeSender{}
	tests := []struct {
		name      string
		s         MultiSender
		channel   string
		wantEmail int
		wantSMS   int
		wantErr   bool
		permanent bool
	}{
		{name: "email", s: MultiSender{Email: email, SMS: sms}, channel: ChannelEmail, wantEmail: 1},
		{name: "sms", s: MultiSender{Email: email, SMS: sms}, channel: ChannelSMS, wantSMS: 1},
		{name: "unknown channel", s: MultiSender{Email: email, SMS: sms}, channel: "fax", wantErr: true, permanent: true},
		{name: "channel not configured", s: MultiSender{Email: email}, channel: ChannelSMS, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ne, ns := len(email.messages()), len(sms.messages())
			err := tt.s.Send(context.Background(), Message{Channel: tt.channel, To: "x", DeliveryID: "dl_1"})
			if (err != nil) != tt.wantErr || errors.Is(err, ErrPermanent) != tt.permanent {
				t.Errorf("Send = %v, want error %v, permanent %v", err, tt.wantErr, tt.permanent)
			}
			if got := [2]int{len(email.messages()) - ne, len(sms.messages()) - ns}; got != [2]int{tt.wantEmail, tt.wantSMS} {
				t.Errorf("messages to email, sms = %v, want [%d %d]", got, tt.wantEmail, tt.wantSMS)
			}
		})
	}
}
