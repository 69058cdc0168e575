package store

import (
	"context"
	"fmt"
)

// Wards lists the subjects whose registered guardian is guardianID, in id
// order: the minors a guardian manages in the privacy center. Erased
// subjects have no guardian any more and so are never listed.
func (s *Store) Wards(ctx context.Context, guardianID string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id FROM subjects WHERE guardian_id = ? ORDER BY id LIMIT 100`), guardianID)
	if err != nil {
		return nil, fmt.Errorf("wards: %w", mapErr(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("wards: %w", mapErr(err))
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("wards: %w", mapErr(err))
	}
	return out, nil
}
