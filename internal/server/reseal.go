package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/store"
)

// ResealReport counts what Reseal did.
type ResealReport struct {
	Resealed int // sealed again under their owner's key
	Dropped  int // whose owner was erased: emptied
	Failed   int // that did not open with the data keyset: left as they are
}

// Reseal seals every value sealed with the data keyset alone (as Custos did
// before the key store) again under its owner's key, so that erasure
// reaches it in backups taken from then on; messages from then also lose
// the template values (one-time codes among them) they kept in the clear.
// A value whose owner was erased meanwhile is emptied. progress, if set, is
// called every 1,000 values looked at. Running it again does nothing more.
func Reseal(ctx context.Context, st *store.Store, ks *keystore.Store, progress func(seen int)) (ResealReport, error) {
	var r ResealReport
	seen := 0
	err := st.SealedValues(ctx, func(v store.Sealed) error {
		seen++
		if progress != nil && seen%1000 == 0 {
			progress(seen)
		}
		if !v.Legacy {
			return nil
		}
		plain, err := ks.Open(ctx, v.Owner, v.Value, v.AD)
		if err != nil {
			r.Failed++
			return nil
		}
		if v.Table == "outbox" {
			// Before owner keys the address alone was sealed; the payload
			// now carries it with the template values.
			if plain, err = json.Marshal(notify.Payload{To: string(plain), Data: v.Data}); err != nil {
				return err
			}
		}
		sealed, err := ks.Seal(ctx, v.Owner, plain, v.AD)
		clear(plain)
		switch {
		case errors.Is(err, keystore.ErrDestroyed):
			sealed = []byte{}
			r.Dropped++
		case err != nil:
			return fmt.Errorf("reseal %s: %w", v.Table, err)
		default:
			r.Resealed++
		}
		_, err = st.ReplaceSealed(ctx, v, sealed)
		return err
	})
	return r, err
}
