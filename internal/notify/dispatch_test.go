package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/keystore/keystoretest"
)

// fakeSender records what it is given and fails as fail says.
type fakeSender struct {
	mu   sync.Mutex
	fail func(m Message, call int) error // call counts from 1 per address
	got  []Message
	seen map[string]int
}

func (f *fakeSender) Send(ctx context.Context, m Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	f.seen[m.To]++
	f.got = append(f.got, m)
	if f.fail != nil {
		return f.fail(m, f.seen[m.To])
	}
	return nil
}

func (f *fakeSender) messages() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.got...)
}

func enqueue(t *testing.T, ob Outbox, s Sealer, channel, to, template string, data map[string]string, at time.Time) Delivery {
	t.Helper()
	d, err := NewDelivery(t.Context(), s, channel, to, template, LangEN, data)
	if err != nil {
		t.Fatal(err)
	}
	d.NextAt = at
	d.Subject = "sub_7f3a9c21"
	if err := ob.Enqueue(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

func otpData() map[string]string { return map[string]string{"code": testCode, "minutes": "10"} }

func TestDispatcherRetriesThenSends(t *testing.T) {
	ctx := context.Background()
	ob, sealer, clk := &MemOutbox{}, newGCMSealer(t), clocktest.New(t0)
	sender := &fakeSender{fail: func(_ Message, call int) error {
		if call <= 3 {
			return errors.New("gateway unavailable")
		}
		return nil
	}}
	d := &Dispatcher{Outbox: ob, Sealer: sealer, Sender: sender, Now: clk.Now}
	dl := enqueue(t, ob, sealer, ChannelEmail, testEmail, "otp", otpData(), t0)

	type pass struct {
		Sent, Failed int
		Attempts     int
		Status       string
		LastError    string
	}
	var got []pass
	var waits []time.Duration
	for range 4 {
		now := clk.Now()
		sent, failed, err := d.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cur, err := ob.Get(dl.ID)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, pass{sent, failed, cur.Attempts, cur.Status, cur.LastError})
		if cur.Status != StatusPending {
			if !cur.SentAt.Equal(now) {
				t.Errorf("SentAt = %v, want %v", cur.SentAt, now)
			}
			break
		}
		waits = append(waits, cur.NextAt.Sub(now))
		// Nothing is due just before the next attempt.
		clk.Set(cur.NextAt.Add(-time.Second))
		if s, f, err := d.RunOnce(ctx); s+f != 0 || err != nil {
			t.Errorf("RunOnce before NextAt = %d sent, %d failed, %v; want nothing", s, f, err)
		}
		clk.Set(cur.NextAt)
	}
	want := []pass{
		{0, 1, 1, StatusPending, "gateway unavailable"},
		{0, 1, 2, StatusPending, "gateway unavailable"},
		{0, 1, 3, StatusPending, "gateway unavailable"},
		{1, 0, 4, StatusSent, ""},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("passes (-want +got):\n%s", d)
	}
	for i, w := range waits {
		hi := 30 * time.Second << i
		if w < hi*3/4 || w > hi {
			t.Errorf("wait after attempt %d = %v, want in [%v, %v]", i+1, w, hi*3/4, hi)
		}
		if i > 0 && w <= waits[i-1] {
			t.Errorf("wait after attempt %d = %v, not longer than %v", i+1, w, waits[i-1])
		}
	}
	msgs := sender.messages()
	if len(msgs) != 4 {
		t.Fatalf("sender called %d times, want 4", len(msgs))
	}
	last := msgs[3]
	if last.To != testEmail || last.DeliveryID != dl.ID || last.Subject != "Your verification code" || !strings.Contains(last.Text, testCode) {
		t.Errorf("message = %+v, want the opened address, the delivery id and the rendered code", last)
	}
}

func TestDispatcherGivesUp(t *testing.T) {
	transient := func(Message, int) error { return errors.New("connection refused") }
	tests := []struct {
		name         string
		maxAttempts  int
		fail         func(Message, int) error
		prepare      func(d *Delivery)
		wantCalls    int
		wantAttempts int
		wantStatus   string
		wantError    string
	}{
		{
			name: "dead after MaxAttempts", maxAttempts: 3, fail: transient,
			wantCalls: 3, wantAttempts: 3, wantStatus: StatusDead, wantError: "connection refused",
		},
		{
			name: "default MaxAttempts is 8", fail: transient,
			wantCalls: 8, wantAttempts: 8, wantStatus: StatusDead, wantError: "connection refused",
		},
		{
			name: "permanent error at once", maxAttempts: 5,
			fail:      func(Message, int) error { return fmt.Errorf("mailbox unknown: %w", ErrPermanent) },
			wantCalls: 1, wantAttempts: 1, wantStatus: StatusDead, wantError: "mailbox unknown: permanent failure",
		},
		{
			name: "template gone", maxAttempts: 5, prepare: func(d *Delivery) { d.Template = "retired" },
			wantCalls: 0, wantAttempts: 1, wantStatus: StatusDead, wantError: `no template "retired"`,
		},
		{
			name: "payload sealed for another delivery", maxAttempts: 5,
			prepare: func(d *Delivery) {
				d.ID = "dl_other"
			},
			wantCalls: 0, wantAttempts: 5, wantStatus: StatusDead, wantError: "payload cannot be opened",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			ob, sealer, clk := &MemOutbox{}, newGCMSealer(t), clocktest.New(t0)
			sender := &fakeSender{fail: tt.fail}
			d := &Dispatcher{Outbox: ob, Sealer: sealer, Sender: sender, Now: clk.Now, MaxAttempts: tt.maxAttempts,
				Backoff: func(int) time.Duration { return time.Minute }}
			dl, err := NewDelivery(t.Context(), sealer, ChannelEmail, testEmail, "otp", LangEN, otpData())
			if err != nil {
				t.Fatal(err)
			}
			dl.NextAt = t0
			if tt.prepare != nil {
				tt.prepare(&dl)
			}
			if err := ob.Enqueue(ctx, dl); err != nil {
				t.Fatal(err)
			}
			for range 12 {
				if _, _, err := d.RunOnce(ctx); err != nil {
					t.Fatal(err)
				}
				clk.Set(clk.Now().Add(time.Minute))
			}
			got, err := ob.Get(dl.ID)
			if err != nil {
				t.Fatal(err)
			}
			if calls := len(sender.messages()); calls != tt.wantCalls {
				t.Errorf("sender called %d times, want %d", calls, tt.wantCalls)
			}
			if got.Attempts != tt.wantAttempts || got.Status != tt.wantStatus {
				t.Errorf("attempts, status = %d, %s; want %d, %s", got.Attempts, got.Status, tt.wantAttempts, tt.wantStatus)
			}
			if !strings.Contains(got.LastError, tt.wantError) {
				t.Errorf("LastError = %q, want it to contain %q", got.LastError, tt.wantError)
			}
		})
	}
}

func TestDispatcherFailureDoesNotBlockOthers(t *testing.T) {
	ctx := context.Background()
	ob, sealer := &MemOutbox{}, newGCMSealer(t)
	sender := &fakeSender{fail: func(m Message, _ int) error {
		if m.To == "b@example.com" {
			return errors.New("rejected")
		}
		return nil
	}}
	d := &Dispatcher{Outbox: ob, Sealer: sealer, Sender: sender, Now: func() time.Time { return t0 }}
	var ids []string
	for i, to := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		ids = append(ids, enqueue(t, ob, sealer, ChannelEmail, to, "otp", otpData(), t0.Add(time.Duration(i-3)*time.Second)).ID)
	}
	sent, failed, err := d.RunOnce(ctx)
	if err != nil || sent != 2 || failed != 1 {
		t.Fatalf("RunOnce = %d sent, %d failed, %v; want 2, 1, nil", sent, failed, err)
	}
	var got []string
	for _, id := range ids {
		dl, _ := ob.Get(id)
		got = append(got, dl.Status)
	}
	if d := cmp.Diff([]string{StatusSent, StatusPending, StatusSent}, got); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
}

func TestDispatcherLogsNoPersonalData(t *testing.T) {
	ctx := context.Background()
	ob, sealer := &MemOutbox{}, newGCMSealer(t)
	// A mail server that echoes the recipient and the message back.
	sender := &fakeSender{fail: func(m Message, _ int) error {
		if m.Channel == ChannelEmail {
			return fmt.Errorf("550 5.1.1 <%s>: User unknown\r\nin reply to: %s", strings.ToUpper(m.To), m.Text)
		}
		return fmt.Errorf("gateway: number %s (%s) invalid", strings.TrimPrefix(m.To, "+"), m.To)
	}}
	var logs bytes.Buffer
	d := &Dispatcher{Outbox: ob, Sealer: sealer, Sender: sender, Now: func() time.Time { return t0 },
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	email := enqueue(t, ob, sealer, ChannelEmail, testEmail, "otp", otpData(), t0)
	sms := enqueue(t, ob, sealer, ChannelSMS, testPhone, "otp", otpData(), t0)
	if _, failed, err := d.RunOnce(ctx); failed != 2 || err != nil {
		t.Fatalf("RunOnce: %d failed, %v; want 2 failed", failed, err)
	}
	// The test would prove nothing if the sender never saw the data.
	for _, m := range sender.messages() {
		if !strings.Contains(m.Text, testCode) {
			t.Fatalf("message to the sender lacks the code: %q", m.Text)
		}
	}
	secrets := []string{testEmail, "li.lei", testPhone, strings.TrimPrefix(testPhone, "+"), testCode, "verification code is"}
	for _, id := range []string{email.ID, sms.ID} {
		dl, _ := ob.Get(id)
		if !strings.Contains(dl.LastError, redactedTo) || strings.ContainsAny(dl.LastError, "\r\n") {
			t.Errorf("LastError = %q, want the address replaced and one line", dl.LastError)
		}
		for _, s := range secrets {
			if strings.Contains(strings.ToLower(dl.LastError), strings.ToLower(s)) {
				t.Errorf("LastError %q contains %q", dl.LastError, s)
			}
		}
		if !strings.Contains(logs.String(), `"delivery_id":"`+id+`"`) {
			t.Errorf("logs lack delivery_id %s:\n%s", id, logs.String())
		}
	}
	for _, want := range []string{`"template":"otp"`, `"channel":"email"`, `"channel":"sms"`, `"attempt":1`, `"subject_id":"sub_7f3a9c21"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
	for _, s := range secrets {
		if strings.Contains(strings.ToLower(logs.String()), strings.ToLower(s)) {
			t.Errorf("logs contain %q:\n%s", s, logs.String())
		}
	}
}

func TestFailureReason(t *testing.T) {
	long := strings.Repeat("错", 100)
	msg := Message{To: testEmail, Subject: "Your verification code", Text: "Your code is 482915.\nValid for 10 minutes.\n\nOK\n"}
	tests := []struct {
		name string
		err  error
		to   string
		data map[string]string
		want string
	}{
		{"message lines", errors.New("rejected: Your verification code: Your code is 482915. OK"), testEmail, nil, "rejected: [message]: [message] OK"},
		{"plain", errors.New("timeout"), testEmail, nil, "timeout"},
		{"address any case", errors.New("<LI.LEI@Example.com> unknown"), testEmail, nil, "<[address]> unknown"},
		{"phone without plus", errors.New("8613800138000 barred"), testPhone, nil, "[address] barred"},
		{"code", errors.New("body: code 482915"), testEmail, map[string]string{"code": testCode}, "body: code [redacted]"},
		{"control characters", errors.New("a\r\nb\tc"), testEmail, nil, "a  b c"},
		{"truncated on a character boundary", errors.New(long), testEmail, nil, strings.Repeat("错", 66) + "…"},
		{"no address known", errors.New("address cannot be opened"), "", nil, "address cannot be opened"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := msg
			m.To = tt.to
			if got := failureReason(tt.err, m, tt.data); got != tt.want {
				t.Errorf("failureReason = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDefaultBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		lo, hi  time.Duration
	}{
		{0, 22500 * time.Millisecond, 30 * time.Second},
		{1, 22500 * time.Millisecond, 30 * time.Second},
		{2, 45 * time.Second, time.Minute},
		{3, 90 * time.Second, 2 * time.Minute},
		{7, 24 * time.Minute, 32 * time.Minute},
		{8, 45 * time.Minute, time.Hour},
		{40, 45 * time.Minute, time.Hour},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.attempt), func(t *testing.T) {
			for range 200 {
				if got := DefaultBackoff(tt.attempt); got < tt.lo || got > tt.hi {
					t.Fatalf("DefaultBackoff(%d) = %v, want in [%v, %v]", tt.attempt, got, tt.lo, tt.hi)
				}
			}
		})
	}
}

func TestRunDrainsBacklogAndStops(t *testing.T) {
	ob, sealer := &MemOutbox{}, newGCMSealer(t)
	sender := &fakeSender{}
	for i := range 5 {
		enqueue(t, ob, sealer, ChannelEmail, fmt.Sprintf("user%d@example.com", i), "otp", otpData(), t0)
	}
	d := &Dispatcher{Outbox: ob, Sealer: sealer, Sender: sender, Batch: 2, Now: func() time.Time { return t0 }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// An hour between passes: only the drain after full batches can send
	// all five within the test.
	go func() { done <- d.Run(ctx, time.Hour) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(sender.messages()) < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	var statuses []string
	for _, dl := range ob.All() {
		statuses = append(statuses, dl.Status)
	}
	if d := cmp.Diff([]string{StatusSent, StatusSent, StatusSent, StatusSent, StatusSent}, statuses); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
}

type brokenOutbox struct{ MemOutbox }

func (b *brokenOutbox) MarkSent(context.Context, string, time.Time) error {
	return errors.New("database is locked")
}

func TestRunOnceReportsOutboxErrors(t *testing.T) {
	ctx := context.Background()
	if _, _, err := (&Dispatcher{}).RunOnce(ctx); err == nil {
		t.Error("RunOnce without outbox, sealer and sender succeeded")
	}
	ob, sealer := &brokenOutbox{}, newGCMSealer(t)
	enqueue(t, ob, sealer, ChannelEmail, testEmail, "otp", otpData(), t0)
	d := &Dispatcher{Outbox: ob, Sealer: sealer, Sender: &fakeSender{}, Now: func() time.Time { return t0 }}
	sent, failed, err := d.RunOnce(ctx)
	if sent != 1 || failed != 0 || err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Errorf("RunOnce = %d sent, %d failed, %v; want 1, 0 and the outbox error", sent, failed, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := d.RunOnce(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("RunOnce with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestDispatcherDestroyedKey: a message whose key was destroyed (its
// subject erased) is given up at once, without reaching the sender.
func TestDispatcherDestroyedKey(t *testing.T) {
	ctx := context.Background()
	ob := &MemOutbox{}
	keys := keystoretest.New(t, nil)
	sender := &fakeSender{}
	d := &Dispatcher{Outbox: ob, Sealer: keys, Sender: sender, Now: func() time.Time { return t0 }}
	dl := enqueue(t, ob, keys, ChannelEmail, testEmail, "otp", otpData(), t0)
	if _, err := keys.Destroy(ctx, Owner(dl.ID)); err != nil {
		t.Fatal(err)
	}
	if sent, failed, err := d.RunOnce(ctx); sent != 0 || failed != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %d, %v; want one failure", sent, failed, err)
	}
	got, _ := ob.Get(dl.ID)
	if got.Status != StatusDead || got.Attempts != 1 || len(sender.messages()) != 0 {
		t.Errorf("after a destroyed key: status %s, %d attempts, %d sent; want dead after one attempt, none sent", got.Status, got.Attempts, len(sender.messages()))
	}
}

// TestDispatcherObserves: every attempt's outcome is told, by channel.
func TestDispatcherObserves(t *testing.T) {
	ctx := context.Background()
	ob, sealer := &MemOutbox{}, newGCMSealer(t)
	var got []string
	sender := &fakeSender{fail: func(m Message, call int) error {
		if m.Channel == ChannelSMS {
			return fmt.Errorf("%w: rejected", ErrPermanent)
		}
		if call == 1 {
			return errors.New("timeout")
		}
		return nil
	}}
	now := t0
	d := &Dispatcher{Outbox: ob, Sealer: sealer, Sender: sender, Now: func() time.Time { return now },
		Backoff: func(int) time.Duration { return time.Second }, Observe: func(ch, o string) { got = append(got, ch+" "+o) }}
	enqueue(t, ob, sealer, ChannelEmail, testEmail, "otp", otpData(), t0)
	enqueue(t, ob, sealer, ChannelSMS, testPhone, "otp", otpData(), t0)
	d.RunOnce(ctx)
	now = now.Add(time.Minute)
	d.RunOnce(ctx)
	slices.Sort(got)
	if want := []string{"email retry", "email sent", "sms dead"}; !slices.Equal(got, want) {
		t.Errorf("observed %v, want %v", got, want)
	}
}
