package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/vault"
)

// vaultRetention is the vault's retention sweep and the count of what it
// deleted.
type vaultRetention struct {
	vault   *vault.Service
	expired prometheus.Counter
}

// newVaultRetention registers custos_vault_expired_total; nil without a
// vault (no data keyset).
func newVaultRetention(v *vault.Service, reg prometheus.Registerer) *vaultRetention {
	if v == nil {
		return nil
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "custos_vault_expired_total",
		Help: "Vault values this instance deleted because their retention period ended."})
	reg.MustRegister(c)
	return &vaultRetention{vault: v, expired: c}
}

// expireVault deletes the vault values whose retention ended, at start and
// then hourly. Instances sweeping at once delete each value once: the
// second finds it gone.
func (s *Server) expireVault(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.ExpireVault(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Error("vault retention sweep failed", "err", err, "deleted", n)
		} else if n > 0 {
			s.log.Info("vault values past their retention deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ExpireVault deletes the vault values whose retention period ended by now
// (vault.Service.Expire) and returns how many.
func (s *Server) ExpireVault(ctx context.Context, now time.Time) (int, error) {
	if s.retention == nil {
		return 0, nil
	}
	n, err := s.retention.vault.Expire(ctx, audit.System(hostname()), now)
	s.retention.expired.Add(float64(n))
	return n, err
}
