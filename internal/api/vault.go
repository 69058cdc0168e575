package api

import (
	"net/http"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
)

var errNoVault = fault.New(fault.Unavailable, "vault_unavailable", "the vault needs the data keyset; see custos secrets init")

// VaultInput is a value to keep in the vault.
type VaultInput struct {
	Value string `json:"value"`
}

// putVault keeps a value and answers its token. The value itself is never
// in an answer to a write, nor in any log or error.
func (a *API) putVault(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	if a.opt.Vault == nil {
		return errNoVault
	}
	var in VaultInput
	if err := decode(r, &in); err != nil {
		return err
	}
	v, err := a.opt.Vault.Put(r.Context(), who, r.PathValue("subject_id"), r.PathValue("field"), in.Value)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

func (a *API) getVault(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	if a.opt.Vault == nil {
		return errNoVault
	}
	v, err := a.opt.Vault.Get(r.Context(), who, r.PathValue("subject_id"), r.PathValue("field"), r.URL.Query().Get("purpose"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

func (a *API) deleteVault(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	if a.opt.Vault == nil {
		return errNoVault
	}
	if err := a.opt.Vault.Delete(r.Context(), who, r.PathValue("subject_id"), r.PathValue("field")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
