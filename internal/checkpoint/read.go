package checkpoint

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// Read reads checkpoint lines from r and returns the heads of those whose
// signature keys verifies, as anchors the chains must still contain, with
// a problem for every line that is not a checkpoint or not signed by a
// known key. Blank lines are skipped.
func Read(r io.Reader, keys Keys) (audit.Anchors, []audit.Problem, error) {
	var anchors audit.Anchors
	var problems audit.Problems
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, MaxLine+1), MaxLine+1)
	for n := 1; ; n++ {
		if !sc.Scan() {
			if errors.Is(sc.Err(), bufio.ErrTooLong) {
				problems.Add(audit.Problem{Kind: "checkpoint_invalid", Text: fmt.Sprintf("checkpoint line %d is longer than %d bytes; the lines after it were not read", n, MaxLine)})
				break
			}
			if err := sc.Err(); err != nil {
				return audit.Anchors{}, nil, fmt.Errorf("read checkpoints: %w", err)
			}
			break
		}
		line := sc.Bytes()
		if len(line) == 0 || allSpace(line) {
			continue
		}
		c, err := Parse(line)
		if err != nil {
			problems.Add(audit.Problem{Kind: "checkpoint_invalid", Text: fmt.Sprintf("checkpoint line %d is not a checkpoint (%v)", n, err)})
			continue
		}
		from := fmt.Sprintf("the checkpoint on line %d (%s by %s)", n, c.At.Format(time.RFC3339), c.Instance)
		switch err := keys.Verify(c); {
		case errors.Is(err, ErrUnknownKey):
			problems.Add(audit.Problem{Kind: "checkpoint_unknown_key", Text: fmt.Sprintf("%s is signed with key %s, which is not among the keys given; pass the old key set with --checkpoint-keys", from, c.KeyID)})
			continue
		case err != nil:
			problems.Add(audit.Problem{Kind: "checkpoint_signature", Text: fmt.Sprintf("%s does not verify: it was altered or forged", from)})
			continue
		}
		anchors.Trail = append(anchors.Trail, audit.Anchor{Seq: c.Trail.Seq, Hash: c.Trail.Hash, From: from})
		anchors.Ledger = append(anchors.Ledger, audit.Anchor{Seq: c.Ledger.Seq, Hash: c.Ledger.Hash, From: from})
	}
	return anchors, problems, nil
}

func allSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// FileAnchors is an audit.AnchorSource reading the checkpoint file at path.
func FileAnchors(path string, keys Keys) audit.AnchorSource {
	return func(ctx context.Context) (audit.Anchors, []audit.Problem, error) {
		f, err := os.Open(path)
		if err != nil {
			return audit.Anchors{}, nil, fmt.Errorf("read checkpoints: %w", err)
		}
		defer f.Close()
		return Read(f, keys)
	}
}
