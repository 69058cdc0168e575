package dsr

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
)

// Filter selects the requests List returns.
type Filter struct {
	States    []string  // in one of these states (the open ones when empty)
	SubjectID string    // about this subject
	Kind      string    // of this type ("access", "deletion", …)
	DueBy     string    // due on or before this date (YYYY-MM-DD)
	Since     time.Time // received at or after this time (zero: any)
	Limit     int       // at most this many (500 when not positive)
	// After continues a listing from the Next of the page before; "" starts
	// at the beginning.
	After string
}

// storeFilter is f as the store takes it.
func (f Filter) storeFilter() (store.RequestFilter, error) {
	after, err := decodeCursor(f.After)
	if err != nil {
		return store.RequestFilter{}, err
	}
	return store.RequestFilter{States: f.States, SubjectID: f.SubjectID, Kind: f.Kind, DueBy: f.DueBy, Since: f.Since, Limit: f.Limit, After: after}, nil
}

// Page is one page of a listing.
type Page struct {
	Requests []View
	// Next continues the listing (Filter.After) when more requests may
	// follow, "" after the last.
	Next string
}

// ListPage lists one page of the requests f selects, soonest due first,
// and where the next page starts. The pages of a listing hold every
// request it selects once, in order, however many there are; a request
// that changes meanwhile shows where it stands when its page is read.
func (s *Service) ListPage(ctx context.Context, f Filter) (Page, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	limit := f.Limit
	// One more than the page tells whether another follows, so that the
	// last page says so rather than leading to an empty one.
	f.Limit++
	vs, rs, err := s.list(ctx, f)
	if err != nil {
		return Page{}, err
	}
	if len(vs) <= limit {
		return Page{Requests: vs}, nil
	}
	return Page{Requests: vs[:limit], Next: encodeCursor(store.CursorOf(rs[limit-1]))}, nil
}

// The cursor is opaque to clients: the last request's due date, time of
// receipt and id, which they have anyway, encoded so that nobody builds
// one by hand and comes to depend on its shape.
func encodeCursor(c store.RequestCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.DueDate + "\n" + strconv.FormatInt(c.ReceivedAt.UnixMicro(), 10) + "\n" + c.ID))
}

func decodeCursor(s string) (store.RequestCursor, error) {
	if s == "" {
		return store.RequestCursor{}, nil
	}
	bad := fault.New(fault.BadRequest, "invalid_cursor", "the cursor is not one this API returned").At("cursor")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.RequestCursor{}, bad
	}
	parts := strings.SplitN(string(raw), "\n", 3)
	if len(parts) != 3 || parts[2] == "" {
		return store.RequestCursor{}, bad
	}
	us, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return store.RequestCursor{}, bad
	}
	return store.RequestCursor{DueDate: parts[0], ReceivedAt: time.UnixMicro(us).UTC(), ID: parts[2]}, nil
}
