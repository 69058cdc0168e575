package store

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// TestRawDecoding: the raw scanners' decoders read PostgreSQL's binary
// integers of both widths, refuse other widths, slice a row's texts out
// of one string, and refuse a result whose column types differ from those
// they decode.
func TestRawDecoding(t *testing.T) {
	for _, tt := range []struct {
		in      []byte
		want    int64
		wantErr bool
	}{
		{[]byte{0, 0, 0, 0, 0, 0, 1, 2}, 258, false},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}, -2, false},
		{[]byte{0, 0, 0, 7}, 7, false},
		{[]byte{0xff, 0xff, 0xff, 0xff}, -1, false},
		{[]byte{1, 2}, 0, true},
		{nil, 0, true}, // NULL
	} {
		got, err := rawInt(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("rawInt(%v) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}

	var a, b, c, d string
	rawStrings([][]byte{[]byte("alpha"), nil, []byte("βeta"), []byte("")}, &a, &b, &c, &d)
	if got := []string{a, b, c, d}; !slices.Equal(got, []string{"alpha", "", "βeta", ""}) {
		t.Errorf("rawStrings = %q", got)
	}

	fds := []pgconn.FieldDescription{{Name: "seq", DataTypeOID: pgtype.Int8OID}, {Name: "hash", DataTypeOID: pgtype.ByteaOID}}
	if err := columnsAre(fds, []uint32{pgtype.Int8OID, pgtype.ByteaOID}); err != nil {
		t.Errorf("columnsAre(matching) = %v", err)
	}
	for _, want := range [][]uint32{{pgtype.Int8OID, pgtype.TextOID}, {pgtype.Int8OID}} {
		err := columnsAre(fds, want)
		if err == nil || !strings.HasPrefix(err.Error(), "read: ") {
			t.Errorf("columnsAre(%v) = %v, want a refusal", want, err)
		}
	}
}

// TestPipeReadError: a reader's error ends the pipe with that error, after
// the items read before it were checked in order.
func TestPipeReadError(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	var checked []int
	err := pipe(func(item *int, _ *[]byte) (bool, error) {
		if n == pipeBatch+3 {
			return false, boom
		}
		n++
		*item = n
		return true, nil
	}, func(item *int) { checked = append(checked, *item) })
	if !errors.Is(err, boom) {
		t.Fatalf("pipe = %v, want %v", err, boom)
	}
	for i, v := range checked {
		if v != i+1 {
			t.Fatalf("checked[%d] = %d: out of order", i, v)
		}
	}
	if len(checked) != pipeBatch {
		t.Errorf("checked %d items before the error, want the %d of the full batch", len(checked), pipeBatch)
	}
}
