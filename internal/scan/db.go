package scan

import (
	"context"
	"database/sql"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/detect"
)

// DefaultSample is the rows read per table unless Options say otherwise.
const DefaultSample = 100

// Database scans every table of an open connector: Sample rows per table,
// or with Full every row through a streaming cursor. A finding's Path is
// the table, Line the row's ordinal (in primary-key order when there is
// one) and Field the column.
func (s *Scanner) Database(ctx context.Context, c connector.Connector) error {
	schema, err := c.Introspect(ctx)
	if err != nil {
		return err
	}
	limit := s.Sample
	if limit <= 0 {
		limit = DefaultSample
	}
	if s.Full {
		limit = 0
	}
	for _, t := range schema.Tables {
		s.progress.Files++
		row := 0
		err := connector.Rows(ctx, c, t, limit, func(vals []sql.NullString) error {
			row++
			for i, v := range vals {
				if !v.Valid || v.String == "" {
					continue
				}
				s.progress.Bytes += int64(len(v.String))
				spans := find(v.String, s.Decode)
				if len(spans) == 0 {
					continue
				}
				if err := s.report(t.Name, t.Columns[i].Name, row, v.String, spans, spans, func(detect.Span) int { return 0 }); err != nil {
					return err
				}
			}
			if s.Progress != nil {
				s.Progress(s.progress)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
