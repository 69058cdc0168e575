package client

import (
	"context"
	"time"
)

// Cross-border transfers: the application reports each transfer of
// personal information abroad it makes, and Custos counts the people
// once a year per transfer (as keyed hashes, never their ids), for the
// thresholds of the CAC Provisions on Cross-Border Data Flows. People
// are also counted from separate consents to a transfer and from allowed
// checks of a transfer's purposes; reporting them as well counts nobody
// twice.

// TransferInput is a transfer made: the flow of the register (a
// storage.cross_border id, or recipient:ID, sdk:ID, location:ID) or the
// recipient it went to, and the subjects whose information it carried.
type TransferInput struct {
	Flow       string     `json:"flow,omitempty"`
	Recipient  string     `json:"recipient,omitempty"`
	SubjectIDs []string   `json:"subject_ids"`
	OccurredAt *time.Time `json:"occurred_at,omitempty"` // this year or last; now when nil
}

// TransferReported is what a report counted.
type TransferReported struct {
	// Flow is the flow the transfer was counted under.
	Flow string `json:"flow"`
	// Year is the calendar year (China time) it was counted in.
	Year int `json:"year"`
	// Subjects is how many distinct subjects the report named.
	Subjects int `json:"subjects"`
	// Added is how many of them were new to the flow that year.
	Added int64 `json:"added"`
}

// MaxTransferSubjects bounds the subjects of one ReportTransfer.
const MaxTransferSubjects = 1000

// ReportTransfer counts the people of a transfer abroad the application
// made. It needs a service or admin key. It is written before it answers.
// An unknown flow or recipient is ErrInvalid with code unknown_transfer
// (Error.Allowed lists the flows).
func (c *Client) ReportTransfer(ctx context.Context, in TransferInput) (TransferReported, error) {
	var out TransferReported
	err := c.do(ctx, call{op: "ReportTransfer", method: "POST", path: pathOf("transfers"), body: in}, &out)
	return out, err
}
