package client_test

import (
	"testing"

	"github.com/custos-privacy/custos/client"
)

// testTransfers reports the starter's Singapore relay: a person reported
// twice counts once; an unknown flow is refused without quoting the
// subjects.
func testTransfers(t *testing.T, s *server) {
	ctx := t.Context()
	tests := []struct {
		name string
		in   client.TransferInput
		want client.TransferReported
	}{
		{"by flow", client.TransferInput{Flow: "sg-sync-relay", SubjectIDs: []string{"ct-1", "ct-2", "ct-2"}}, client.TransferReported{Flow: "sg-sync-relay", Subjects: 2, Added: 2}},
		{"by recipient, once more", client.TransferInput{Recipient: "sync-relay-sg", SubjectIDs: []string{"ct-2", "ct-3"}}, client.TransferReported{Flow: "sg-sync-relay", Subjects: 2, Added: 1}},
	}
	for _, tt := range tests {
		got, err := s.service.ReportTransfer(ctx, tt.in)
		if err != nil || got.Year < 2026 {
			t.Fatalf("%s: %+v, %v", tt.name, got, err)
		}
		got.Year = 0
		if got != tt.want {
			t.Errorf("%s = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	_, err := s.service.ReportTransfer(ctx, client.TransferInput{Flow: "moon", SubjectIDs: []string{"ct-secret-9"}})
	if e := wantErr(t, "an unknown flow", err, client.ErrInvalid, client.ErrorCode("unknown_transfer"), "ct-secret-9"); len(e.Allowed) == 0 {
		t.Errorf("the refusal lists no flows: %+v", e)
	}
}
