package dsr

import (
	"context"
	"sync"
	"time"
)

// Sending a one-time code to an identity on file takes work an unknown
// identity does not: opening the kept address, a key for the message and
// a write to the outbox. Done while the person waits, it would make the
// answer slower for a customer than for anyone else, and the time alone
// would tell who is one. So a code is only queued while they wait, the
// same way for both; a worker behind the answer looks the identity up and
// sends the code, or does nothing.

// codeQueueSize bounds the codes waiting to be sent. Codes are limited
// per address and per identity, so a full queue means a burst the worker
// has not caught up with; the code is then sent while the person waits
// rather than lost.
const codeQueueSize = 256

// codeJobTimeout bounds the sending of one code.
const codeJobTimeout = time.Minute

// codeJob is a code waiting to be sent. The code lives only here until it
// is sealed into the message; it is never logged nor stored in the clear.
type codeJob struct {
	kind, code, lang string
	hash             []byte
	ttl              time.Duration
	vars             map[string]string
	// linked are the identity's hashes under linked organisations' keys:
	// when this organisation does not hold it, one of them may.
	linked map[string][]byte
}

// codeQueue is the worker's queue and the count of codes not yet handled,
// which Drain waits on.
type codeQueue struct {
	start   sync.Once
	jobs    chan codeJob
	done    chan struct{} // closed when the worker has ended
	mu      sync.Mutex
	idle    *sync.Cond
	pending int
	// closed: the worker is gone (Close); codes are sent before
	// QueueCode returns.
	closed bool
}

// init makes the queue's condition (and, with a worker, its channel)
// once; q.mu is held.
func (q *codeQueue) init(s *Service, worker bool) {
	q.start.Do(func() {
		q.idle = sync.NewCond(&q.mu)
		q.done = make(chan struct{})
		if !worker {
			close(q.done)
			return
		}
		q.jobs = make(chan codeJob, codeQueueSize)
		go s.sendCodes()
	})
}

// QueueCode sends code, valid for ttl, to the identity of this kind and
// keyed hash if it is on file with its value kept, and otherwise does
// nothing; either way it returns at once, having done the same. vars add
// to the template's code and minutes; vars["request"], when set, also ties
// the message to that request. A code not yet sent when the process dies
// is lost, and the person asks for another; a server stopping calls Drain.
func (s *Service) QueueCode(kind string, hash []byte, code, lang string, ttl time.Duration, vars map[string]string) {
	s.queueCode(codeJob{kind: kind, code: code, lang: lang, hash: hash, ttl: ttl, vars: vars})
}

func (s *Service) queueCode(j codeJob) {
	q := &s.codes
	q.mu.Lock()
	if q.closed {
		q.pending++
		q.mu.Unlock()
		s.sendCode(j) // no worker any more: sent before answering
		return
	}
	q.init(s, true)
	q.pending++
	q.mu.Unlock()
	select {
	case q.jobs <- j:
	default:
		s.log.Warn("one-time code queue full: sending the code before answering", "queued", codeQueueSize)
		s.sendCode(j)
	}
}

// Drain waits until every code queued so far has been handled: for tests,
// and for a server to call before it closes the store.
func (s *Service) Drain() {
	q := &s.codes
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.pending > 0 {
		q.idle.Wait()
	}
}

// Close waits until every code queued so far has been handled, as Drain
// does, and ends the worker: an organisation no longer served leaves no
// goroutine behind. A code queued after Close is sent before QueueCode
// returns.
func (s *Service) Close() {
	q := &s.codes
	q.mu.Lock()
	already := q.closed
	q.closed = true
	q.init(s, false)
	q.mu.Unlock()
	// Every code queued before closed was set is counted in pending and
	// was sent on the channel before it was handled, so once none is
	// pending nothing more is sent on it.
	s.Drain()
	if !already && q.jobs != nil {
		close(q.jobs)
	}
}

// sendCodes is the worker: it runs until Close.
func (s *Service) sendCodes() {
	defer close(s.codes.done)
	for j := range s.codes.jobs {
		s.sendCode(j)
	}
}

// sendCode sends one code and counts it handled. Its log lines name the
// request or the subject, never the identity or the code.
func (s *Service) sendCode(j codeJob) {
	defer func() {
		q := &s.codes
		q.mu.Lock()
		q.pending--
		if q.pending == 0 {
			q.idle.Broadcast()
		}
		q.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), codeJobTimeout)
	defer cancel()
	request := j.vars["request"]
	d, ok, err := s.codeDelivery(ctx, j.kind, j.hash, j.code, j.lang, j.ttl, j.vars)
	if err == nil && ok {
		d.Request = request
		err = s.st.Outbox().Enqueue(ctx, d)
	}
	if err == nil && !ok && len(j.linked) > 0 {
		ok, err = s.codeElsewhere(ctx, j)
	}
	attrs := []any{"channel", channelOf(j.kind)}
	if request != "" {
		attrs = append(attrs, "request", request)
	}
	switch {
	case err != nil:
		s.log.Error("one-time code not sent", append(attrs, "err", err)...)
	case ok:
		s.log.Info("one-time code queued", append(attrs, "subject", d.Subject)...)
	}
}

// Holder is the subject holding the identity with this keyed hash, or
// store.ErrNotFound. It is one read of the store that costs the same
// whether or not the identity is on file (store.Store.SubjectByIdentity),
// so a caller that must know the subject while the person waits learns it
// in the same time either way. kind is refused, like a code, when no
// channel here carries its codes.
func (s *Service) Holder(ctx context.Context, kind string, hash []byte) (string, error) {
	if ch := channelOf(kind); !s.Delivers(ch) {
		return "", undeliverable(ch)
	}
	return s.st.SubjectByIdentity(ctx, hash)
}
