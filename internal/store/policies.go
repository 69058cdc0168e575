package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// PolicyVersion is one published version of the manifest.
type PolicyVersion struct {
	Seq         int64
	Version     string
	SHA256      string
	Manifest    string // the manifest YAML as published
	PublishedAt time.Time
	Material    bool     // materially different from the version before
	Reconsent   []string // consent purposes whose consents this version made stale
	Diff        string   // JSON diff against the version before
	// EffectiveAt is when the version comes into force; PublishedAt when
	// it is not given.
	EffectiveAt time.Time
	// Accept lists purposes on other bases than consent that need the
	// subject's express acceptance of this version.
	Accept []string
	// NoticesPending is true while the notices of a material change are
	// not all queued.
	NoticesPending bool
}

// ErrStalePublish is returned when another publication landed between
// reading the current version and publishing against it.
var ErrStalePublish = errors.New("another policy version was published meanwhile")

// ErrEffectiveOrder is returned for a version that would take effect
// before one published earlier: versions come into force in the order
// they are published.
var ErrEffectiveOrder = errors.New("policy versions take effect in the order published")

// PublishPolicy appends pv as the version after basedOn (0 for the first).
// Version labels are immutable: publishing a label again with the same
// content returns the stored version and false; with other content,
// ErrConflict.
func (s *Store) PublishPolicy(ctx context.Context, pv PolicyVersion, basedOn int64, entries ...audit.Entry) (PolicyVersion, bool, error) {
	var out PolicyVersion
	created := false
	err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		created = false
		existing, err := scanPolicy(tx.QueryRowContext(ctx, s.q(`SELECT `+policyCols+` FROM policy_versions WHERE org_id = ? AND version = ?`), s.org, pv.Version))
		switch {
		case err == nil:
			if existing.SHA256 != pv.SHA256 {
				return fmt.Errorf("%w: version %s is already published with other content; give the new manifest a new policy.version", ErrConflict, pv.Version)
			}
			out = existing
			// Roll back: nothing was published, so nothing may be audited.
			return errAlreadyPublished
		case !errors.Is(mapErr(err), ErrNotFound):
			return fmt.Errorf("publish policy: %w", mapErr(err))
		}
		var cur sql.NullInt64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT MAX(seq) FROM policy_versions WHERE org_id = ?`), s.org).Scan(&cur); err != nil {
			return fmt.Errorf("publish policy: %w", mapErr(err))
		}
		if cur.Int64 != basedOn {
			return ErrStalePublish
		}
		pv.Seq = basedOn + 1
		if pv.PublishedAt.IsZero() {
			pv.PublishedAt = time.Now()
		}
		if pv.EffectiveAt.IsZero() || pv.EffectiveAt.Before(pv.PublishedAt) {
			pv.EffectiveAt = pv.PublishedAt
		}
		var prev sql.NullInt64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT MAX(effective_at) FROM policy_versions WHERE org_id = ?`), s.org).Scan(&prev); err != nil {
			return fmt.Errorf("publish policy: %w", mapErr(err))
		}
		if prev.Valid && micros(pv.EffectiveAt) < prev.Int64 {
			return fmt.Errorf("%w: version %s would take effect before a version published earlier", ErrEffectiveOrder, pv.Version)
		}
		reconsent, _ := json.Marshal(nonNil(pv.Reconsent))
		accept, _ := json.Marshal(nonNil(pv.Accept))
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO policy_versions (org_id, seq, version, sha256, manifest, published_at, material, reconsent, diff, effective_at, accept, notices_pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			s.org, pv.Seq, pv.Version, pv.SHA256, pv.Manifest, micros(pv.PublishedAt), boolInt(pv.Material), string(reconsent), pv.Diff,
			micros(pv.EffectiveAt), string(accept), boolInt(pv.NoticesPending)); err != nil {
			return fmt.Errorf("publish policy: %w", mapErr(err))
		}
		out, created = pv, true
		return nil
	}, Audit: entries})
	if errors.Is(err, errAlreadyPublished) {
		return out, false, nil
	}
	if err != nil {
		return PolicyVersion{}, false, err
	}
	return out, created, nil
}

var errAlreadyPublished = errors.New("already published")

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const policyCols = `seq, version, sha256, manifest, published_at, material, reconsent, diff, effective_at, accept, notices_pending`

func scanPolicy(sc interface{ Scan(...any) error }) (PolicyVersion, error) {
	var pv PolicyVersion
	var at, effective int64
	var material, pending int
	var reconsent, accept string
	if err := sc.Scan(&pv.Seq, &pv.Version, &pv.SHA256, &pv.Manifest, &at, &material, &reconsent, &pv.Diff, &effective, &accept, &pending); err != nil {
		return PolicyVersion{}, err
	}
	pv.PublishedAt, pv.EffectiveAt, pv.Material, pv.NoticesPending = fromMicros(at), fromMicros(effective), material != 0, pending != 0
	if err := json.Unmarshal([]byte(reconsent), &pv.Reconsent); err != nil {
		return PolicyVersion{}, fmt.Errorf("policy version %s: reconsent list: %w", pv.Version, err)
	}
	if err := json.Unmarshal([]byte(accept), &pv.Accept); err != nil {
		return PolicyVersion{}, fmt.Errorf("policy version %s: acceptance list: %w", pv.Version, err)
	}
	return pv, nil
}

// PolicyVersions lists every published version, oldest first.
func (s *Store) PolicyVersions(ctx context.Context) ([]PolicyVersion, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT `+policyCols+` FROM policy_versions WHERE org_id = ? ORDER BY seq`), s.org)
	if err != nil {
		return nil, fmt.Errorf("policy versions: %w", mapErr(err))
	}
	defer rows.Close()
	out := []PolicyVersion{}
	for rows.Next() {
		pv, err := scanPolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("policy versions: %w", mapErr(err))
		}
		out = append(out, pv)
	}
	return out, rows.Err()
}

// PolicyVersion returns a version by label.
func (s *Store) PolicyVersion(ctx context.Context, version string) (PolicyVersion, error) {
	pv, err := scanPolicy(s.rd().QueryRowContext(ctx, s.q(`SELECT `+policyCols+` FROM policy_versions WHERE org_id = ? AND version = ?`), s.org, version))
	if err != nil {
		return PolicyVersion{}, fmt.Errorf("policy version: %w", mapErr(err))
	}
	return pv, nil
}

// CurrentPolicy returns the latest published version, or ErrNotFound.
func (s *Store) CurrentPolicy(ctx context.Context) (PolicyVersion, error) {
	pv, err := scanPolicy(s.rd().QueryRowContext(ctx, s.q(`SELECT `+policyCols+` FROM policy_versions WHERE org_id = ? ORDER BY seq DESC LIMIT 1`), s.org))
	if err != nil {
		return PolicyVersion{}, fmt.Errorf("current policy: %w", mapErr(err))
	}
	return pv, nil
}
