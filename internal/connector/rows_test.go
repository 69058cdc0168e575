package connector

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRows(t *testing.T) {
	for _, k := range []Kind{SQLite, Postgres, MySQL} {
		t.Run(string(k), func(t *testing.T) {
			conn := shopConnector(t, k)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			schema, err := conn.Introspect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			read := func(table string, limit int) [][]string {
				t.Helper()
				tab, ok := schema.Table(table)
				if !ok {
					t.Fatalf("no table %s", table)
				}
				var out [][]string
				err := Rows(ctx, conn, tab, limit, func(row []sql.NullString) error {
					r := make([]string, len(row))
					for i, v := range row {
						r[i] = "NULL"
						if v.Valid {
							r[i] = v.String
						}
					}
					out = append(out, r)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			tests := []struct {
				table string
				limit int
				want  [][]string
			}{
				{"order_item", 0, [][]string{{"ord-1", "1", "2"}, {"ord-1", "2", "1"}}},
				{"order_item", 1, [][]string{{"ord-1", "1", "2"}}},
				{oddTable, 0, [][]string{{"1", "x'y"}, {"2", "NULL"}}},
				{"shipment", 5, [][]string{{"1", "ord-1", "1"}}},
			}
			for _, tt := range tests {
				if diff := cmp.Diff(tt.want, read(tt.table, tt.limit)); diff != "" {
					t.Errorf("Rows(%s, %d) (-want +got):\n%s", tt.table, tt.limit, diff)
				}
			}
		})
	}
}
