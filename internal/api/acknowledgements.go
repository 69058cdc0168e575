package api

import (
	"net/http"
	"time"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/ratelimit"
)

// Recipients acknowledge the notices they were sent with the token each
// notice carries: the token is the credential, so the routes are public,
// and limited per address like the other public writes.
func (a *API) acknowledgementRoutes() []route {
	// A recipient acknowledges a batch now and then: 20 at once, then one per 3s.
	a.ackLimit = ratelimit.NewBucket(20, 3*time.Second)
	return []route{
		{"GET", "/v1/public/acknowledgements/{token}", Public, "A recipient's notice as its acknowledgement link shows it (the token is the credential); records nothing", "acknowledgementStatus", "", "Acknowledgement", 200, a.acknowledgementStatus},
		{"POST", "/v1/public/acknowledgements/{token}", Public, "A recipient acknowledges its notice with the token the notice carries; recorded once, repeating it answers the same", "acknowledgeNotice", "", "Acknowledgement", 200, a.acknowledgeNotice},
	}
}

// ackAllowed counts a call against its address's allowance.
func (a *API) ackAllowed(w http.ResponseWriter, who consent.Actor) error {
	if !a.ackLimit.Allow(ratelimit.Client(who.Place), time.Now()) {
		w.Header().Set("Retry-After", "3")
		return errAckRateLimited
	}
	return nil
}

func init() {
	schemaTypes["Acknowledgement"] = dsr.Acknowledgement{}
	schemaTypes["AckLink"] = dsr.AckLink{}
}

var errAckRateLimited = fault.New(fault.TooMany, "rate_limited", "too many acknowledgements from this address; try again later")

func (a *API) acknowledgementStatus(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	if err := a.ackAllowed(w, who); err != nil {
		return err
	}
	d, err := a.dsr()
	if err != nil {
		return err
	}
	ack, err := d.AcknowledgementStatus(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, 200, ack)
}

func (a *API) acknowledgeNotice(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	if err := a.ackAllowed(w, who); err != nil {
		return err
	}
	d, err := a.dsr()
	if err != nil {
		return err
	}
	ack, err := d.AcknowledgeByToken(r.Context(), who.Place, r.PathValue("token"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, 200, ack)
}
