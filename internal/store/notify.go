package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/custos-privacy/custos/internal/audit"
)

// changesChannel is the PostgreSQL channel a commit that changes an
// organisation's state notifies. Channels are per database, and
// deployments may share one in separate schemas: the payload is the
// schema, the organisation's id and the sending process, "schema org
// sender", and a listener passes on only its own schema's, and not its
// own process's: those writes its services saw as they committed
// (OnApply).
const changesChannel = "custos_changes"

// notifies reports whether a trail holds an entry that ChangesSince
// reports to other instances: decision records and the vault's entries
// change nothing they keep, and a busy decision path must not wake every
// instance on each batch of them.
func notifies(entries []*audit.Entry) bool {
	for _, e := range entries {
		if isChange(e.Action) {
			return true
		}
	}
	return false
}

// notifyChanges queues a notification that org's state changed. Inside
// the transaction, PostgreSQL sends it when the transaction commits and
// not at all if it rolls back; notifications with one payload in one
// transaction are sent once.
func (s *Store) notifyChanges(ctx context.Context, tx *sql.Tx, org string) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify('`+changesChannel+`', current_schema() || ' ' || $1 || ' ' || $2)`, org, s.listener.sender()); err != nil {
		return fmt.Errorf("notify changes: %w", mapErr(err))
	}
	return nil
}

// Listen returns a channel that receives when another process (or
// another Open of the database) commits a change to this handle's
// organisation: the wake-up for Poll, which still finds out what
// changed from the audit trail. Sends never block: a burst of commits
// while the receiver is busy comes as one. After the listening connection
// is lost and found again, the channel receives once as well, for what
// may have been missed meanwhile. The channel never receives on SQLite,
// where one process is the only writer, nor while the connection is
// down: callers keep polling on a ticker besides. It stops when ctx ends.
func (s *Store) Listen(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	if s.dialect != Postgres {
		return ch
	}
	s.listener.subscribe(ctx, s, ch)
	return ch
}

// listener is the one connection per database that LISTENs, shared by
// every handle's subscribers; it runs while anyone subscribes.
type listener struct {
	mu   sync.Mutex
	subs map[chan struct{}]string // channel → organisation
	stop context.CancelFunc
	pid  uint32 // backend of the listening connection, 0 while down

	once sync.Once
	self string // this process's commits' sender
}

// sender names this database handle's commits in notifications: random,
// so that no two processes (nor two stores in one) share it.
func (l *listener) sender() string {
	l.once.Do(func() {
		b := make([]byte, 8)
		rand.Read(b)
		l.self = hex.EncodeToString(b)
	})
	return l.self
}

func (l *listener) subscribe(ctx context.Context, s *Store, ch chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.subs == nil {
		l.subs = map[chan struct{}]string{}
	}
	l.subs[ch] = s.org
	if l.stop == nil {
		lctx, stop := context.WithCancel(context.Background())
		l.stop = stop
		go l.run(lctx, s.w, s.log)
	}
	context.AfterFunc(ctx, func() {
		l.mu.Lock()
		delete(l.subs, ch)
		var stop context.CancelFunc
		if len(l.subs) == 0 && l.stop != nil {
			stop, l.stop = l.stop, nil
		}
		l.mu.Unlock()
		if stop != nil {
			stop()
		}
	})
}

// wake tells org's subscribers, or everyone's for org "".
func (l *listener) wake(org string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch, o := range l.subs {
		if org == "" || o == org {
			select {
			case ch <- struct{}{}:
			default: // a wake-up is already waiting
			}
		}
	}
}

const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 10 * time.Second
)

// run keeps a connection listening until ctx ends, reconnecting with
// backoff. While it is down the subscribers' tickers are all there is.
func (l *listener) run(ctx context.Context, db *sql.DB, log *slog.Logger) {
	wait := listenRetryMin
	for {
		began := time.Now()
		err := l.listenOnce(ctx, db)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > time.Minute {
			wait = listenRetryMin // it was up a while: a new outage, not the same one
		}
		log.Warn("listening for other instances' changes stopped; polling until it is back", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, listenRetryMax)
	}
}

// listenOnce takes a connection from the pool for itself, listens on it
// and passes notifications on until the connection fails or ctx ends.
// The connection never goes back to the pool: it would still be
// listening.
func (l *listener) listenOnce(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var lost error
	conn.Raw(func(dc any) error {
		lost = l.serve(ctx, dc)
		return errors.Join(lost, driver.ErrBadConn)
	})
	return lost
}

// serve listens on dc and passes notifications on until it fails.
func (l *listener) serve(ctx context.Context, dc any) error {
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		return fmt.Errorf("listen: a %T is not a pgx connection", dc)
	}
	pc := sc.Conn()
	var schema string
	if err := pc.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	if _, err := pc.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return err
	}
	l.mu.Lock()
	l.pid = pc.PgConn().PID()
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.pid = 0
		l.mu.Unlock()
	}()
	// Changes committed while nobody listened were not announced.
	l.wake("")
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		rest, ok := strings.CutPrefix(n.Payload, schema+" ")
		if !ok {
			continue // another deployment's
		}
		i := strings.LastIndexByte(rest, ' ')
		if i < 0 || rest[i+1:] == l.sender() {
			continue
		}
		l.wake(rest[:i])
	}
}
