package consent

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// Version states relative to the present.
const (
	VersionInForce    = "in_force"
	VersionUpcoming   = "upcoming"
	VersionSuperseded = "superseded"
)

// Version is one published policy version as the pages and the API show it.
type Version struct {
	Seq         int64
	Label       string // the manifest's policy.version
	SHA256      string
	Manifest    string // the manifest YAML as published
	PublishedAt time.Time
	// EffectiveAt is the instant the version comes into force; a version
	// published with a future effective time is announced until then.
	EffectiveAt time.Time
	Material    bool
	// Reconsent are the consent purposes whose consents this version made
	// stale; Accept the purposes on other bases that need the subject's
	// express acceptance of this version (acceptance: express_consent).
	Reconsent []string
	Accept    []string
	Diff      string // JSON policy.Diff against the version before
	State     string // VersionInForce, VersionUpcoming or VersionSuperseded
}

var errVersionNotFound = fault.New(fault.NotFound, "version_not_found", "no such policy version")

func versionOf(pv store.PolicyVersion, state string) Version {
	return Version{Seq: pv.Seq, Label: pv.Version, SHA256: pv.SHA256, Manifest: pv.Manifest, PublishedAt: pv.PublishedAt,
		EffectiveAt: pv.EffectiveAt, Material: pv.Material, Reconsent: nonNil(pv.Reconsent), Accept: nonNil(pv.Accept), Diff: pv.Diff, State: state}
}

// Versions lists every published version this instance knows (others'
// publications arrive with the next poll), oldest first, with its state
// now.
func (s *Service) Versions(ctx context.Context) ([]Version, error) {
	cur := s.state()
	if cur == nil {
		return []Version{}, nil
	}
	return cur.versionViews(), nil
}

// InForce returns the version in force with its manifest, and every
// version as Versions lists them, from one reading of the state.
func (s *Service) InForce() (Version, *manifest.Manifest, []Version, error) {
	cur := s.state()
	if cur == nil {
		return Version{}, nil, nil, errNoPolicy
	}
	vs := cur.versionViews()
	i := slices.IndexFunc(vs, func(v Version) bool { return v.State == VersionInForce })
	return vs[i], cur.manifest, vs, nil
}

func (cur *current) versionViews() []Version {
	out := make([]Version, len(cur.versions))
	for i, pv := range cur.versions {
		state := VersionSuperseded
		switch {
		case pv.Seq == cur.version.Seq:
			state = VersionInForce
		case pv.Seq > cur.version.Seq:
			state = VersionUpcoming
		}
		out[i] = versionOf(pv, state)
	}
	return out
}

// VersionByLabel returns one published version and its manifest.
func (s *Service) VersionByLabel(ctx context.Context, label string) (Version, *manifest.Manifest, error) {
	vs, err := s.Versions(ctx)
	if err != nil {
		return Version{}, nil, err
	}
	for _, v := range vs {
		if v.Label == label {
			m, err := s.manifestAt(v.Seq)
			if errors.Is(err, store.ErrNotFound) {
				return Version{}, nil, errVersionNotFound
			}
			return v, m, err
		}
	}
	return Version{}, nil, errVersionNotFound
}
