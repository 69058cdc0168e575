package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
)

// pipeBatch is how many rows verification's reader hands over at a time.
const pipeBatch = 512

type pipeBatchOf[T any] struct {
	items []T
	n     int
	arena []byte // the batch's hashes, copied out of the driver's buffers
}

// pipe reads items in a goroutine of its own, read filling one item from
// the next row (copying bytes it keeps into arena) and saying whether
// there was one, and runs check on every item in order in the caller's
// goroutine: the database's reads and the hashes overlap. Three batches go
// round, so memory stays the same however long the chain.
func pipe[T any](read func(item *T, arena *[]byte) (bool, error), check func(item *T)) error {
	const depth = 3
	free := make(chan *pipeBatchOf[T], depth)
	full := make(chan *pipeBatchOf[T], depth)
	for range depth {
		free <- &pipeBatchOf[T]{items: make([]T, pipeBatch), arena: make([]byte, 0, pipeBatch*2*32)}
	}
	var readErr error
	go func() {
		defer close(full)
		for {
			b := <-free
			b.n, b.arena = 0, b.arena[:0]
			more := true
			for b.n < pipeBatch {
				var err error
				if more, err = read(&b.items[b.n], &b.arena); err != nil {
					readErr = err
					return
				}
				if !more {
					break
				}
				b.n++
			}
			if b.n > 0 {
				full <- b
			}
			if !more {
				return
			}
		}
	}()
	for b := range full {
		for i := range b.n {
			check(&b.items[i])
		}
		free <- b
	}
	return readErr
}

// keep copies b into arena and returns the copy.
func keep(arena *[]byte, b []byte) []byte {
	n := len(*arena)
	*arena = append(*arena, b...)
	return (*arena)[n:len(*arena):len(*arena)]
}

// snapshot is the read-only transaction verification reads in. On
// PostgreSQL it holds the transaction's connection too, so that the long
// reads of the chains can go through pgx's wire protocol directly
// (readRaw): database/sql and pgx's driver for it allocate a value per
// column and a string per text, which cost more than the hashing.
type snapshot struct {
	*sql.Tx
	conn *sql.Conn // PostgreSQL only
}

// Rollback ends the transaction and gives the connection back.
func (sn *snapshot) Rollback() error {
	err := sn.Tx.Rollback()
	if sn.conn != nil {
		err = errors.Join(err, sn.conn.Close())
	}
	return err
}

// stream reads the rows of query (placeholders ?, args an organisation id
// and a sequence number at most) in the snapshot and checks them through
// pipe: on PostgreSQL raw, in the binary format, each row read by scanRaw
// from the columns' bytes (whose types must be cols); elsewhere through
// database/sql, by scanSQL.
func stream[T any](ctx context.Context, s *Store, sn *snapshot, query string, args []any, cols []uint32,
	scanSQL func(*sql.Rows, *T, *[]byte) error, scanRaw func([][]byte, *T, *[]byte) error, check func(*T)) error {
	if sn.conn == nil {
		rows, err := sn.QueryContext(ctx, s.q(query), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		return pipe(func(item *T, arena *[]byte) (bool, error) {
			if !rows.Next() {
				return false, rows.Err()
			}
			return true, scanSQL(rows, item, arena)
		}, check)
	}
	return sn.readRaw(ctx, s.q(query), args, func(rr *pgconn.ResultReader) error {
		checked := false
		return pipe(func(item *T, arena *[]byte) (bool, error) {
			if !rr.NextRow() {
				return false, nil
			}
			if !checked {
				if err := columnsAre(rr.FieldDescriptions(), cols); err != nil {
					return false, err
				}
				checked = true
			}
			return true, scanRaw(rr.Values(), item, arena)
		}, check)
	})
}

// readRaw runs query on the snapshot's connection with args sent as text,
// asks for every column in the binary format, and hands the reader to fn.
func (sn *snapshot) readRaw(ctx context.Context, query string, args []any, fn func(*pgconn.ResultReader) error) error {
	params := make([][]byte, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			params[i] = []byte(v)
		case int64:
			params[i] = strconv.AppendInt(nil, v, 10)
		default:
			return fmt.Errorf("read: an argument of type %T", a)
		}
	}
	return sn.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("read: a %T is not a pgx connection", dc)
		}
		rr := c.Conn().PgConn().ExecParams(ctx, query, params, nil, nil, []int16{pgtype.BinaryFormatCode})
		err := fn(rr)
		_, cerr := rr.Close()
		return errors.Join(err, cerr)
	})
}

// columnsAre checks that a result's columns have the types the raw
// scanners read.
func columnsAre(fds []pgconn.FieldDescription, want []uint32) error {
	if len(fds) != len(want) {
		return fmt.Errorf("read: %d columns, want %d", len(fds), len(want))
	}
	for i, fd := range fds {
		if fd.DataTypeOID != want[i] {
			return fmt.Errorf("read: column %s is of type %d, want %d", fd.Name, fd.DataTypeOID, want[i])
		}
	}
	return nil
}

// rawInt reads a BIGINT or an INTEGER in the binary format.
func rawInt(b []byte) (int64, error) {
	switch len(b) {
	case 8:
		return int64(binary.BigEndian.Uint64(b)), nil
	case 4:
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	}
	return 0, fmt.Errorf("read: an integer of %d bytes", len(b))
}

// rawStrings sets each of to to the text of the column of the same
// index in cols, all of them slices of one string: one allocation per row,
// not one per column. A NULL reads as "".
func rawStrings(cols [][]byte, to ...*string) {
	n := 0
	for _, c := range cols {
		n += len(c)
	}
	var b strings.Builder
	b.Grow(n)
	for _, c := range cols {
		b.Write(c)
	}
	all := b.String()
	off := 0
	for i, c := range cols {
		*to[i] = all[off : off+len(c)]
		off += len(c)
	}
}
