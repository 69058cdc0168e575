package store

import "database/sql"

// pipeBatch is how many rows verification's reader hands over at a time.
const pipeBatch = 512

type pipeBatchOf[T any] struct {
	items []T
	n     int
	arena []byte // the batch's hashes, copied out of the driver's buffers
}

// pipe reads rows in a goroutine of its own, scan filling one item from
// the current row (copying bytes it keeps into arena), and runs check on
// every item in order in the caller's goroutine: the database's reads and
// the hashes overlap. Three batches go round, so memory stays the same
// however long the chain.
func pipe[T any](rows *sql.Rows, scan func(rows *sql.Rows, item *T, arena *[]byte) error, check func(item *T)) error {
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
			for b.n < pipeBatch && rows.Next() {
				if err := scan(rows, &b.items[b.n], &b.arena); err != nil {
					readErr = err
					return
				}
				b.n++
			}
			if b.n > 0 {
				full <- b
			}
			if b.n < pipeBatch {
				readErr = rows.Err()
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
