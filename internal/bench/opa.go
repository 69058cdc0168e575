package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/custos-privacy/custos/internal/bench/opadata"
)

// WriteOPAData writes the workload in the form the bench/opa harness reads
// (internal/bench/opadata): the policy in force as check.Spec, every
// subject's decision snapshot, and the queries.
func (e *Env) WriteOPAData(d CheckData, path string) error {
	_, _, pol, err := e.Service.Policy()
	if err != nil {
		return err
	}
	doc := opadata.Data{Policy: opadata.PolicyOf(pol.Spec()), Subjects: make(map[string]opadata.Subject, len(d.Subjects))}
	for _, id := range d.Subjects {
		s := e.Service.Snapshot(id)
		if s == nil || !s.Known {
			return fmt.Errorf("write OPA data: subject %s is not in the decision cache", id)
		}
		doc.Subjects[id] = opadata.SubjectOf(s)
	}
	now := time.Now().Unix()
	doc.Queries = make([]opadata.Query, len(d.Queries))
	for i, q := range d.Queries {
		doc.Queries[i] = opaQuery(q, now)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("write OPA data: %w", err)
	}
	return os.WriteFile(path, b, 0o600)
}

// opaQuery is q as the harness and OPA's input document take it.
func opaQuery(q Query, now int64) opadata.Query {
	return opadata.Query{Subject: q.Subject, Purposes: []string{q.Purpose}, Act: opadata.ActOf(q.Act), Now: now}
}

// OPA drives the bench/opa harness, built from source once per run.
type OPA struct {
	bin string
}

// BuildOPA compiles the harness in dir (bench/opa of a source checkout) into tmp.
func BuildOPA(ctx context.Context, dir, tmp string, log io.Writer) (*OPA, error) {
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return nil, fmt.Errorf("the OPA comparison needs the bench/opa module of a source checkout (--opa-dir): %w", err)
	}
	bin := filepath.Join(tmp, "custos-opa-bench")
	fmt.Fprintf(log, "building the OPA harness in %s …\n", dir)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build the OPA harness: %w", err)
	}
	return &OPA{bin: bin}, nil
}

// OPAEmbedded is the harness's in-process result.
type OPAEmbedded struct {
	OPANs        float64 `json:"opa_embedded_ns_per_decision"`
	CustosNs     float64 `json:"custos_ns_per_decision"`
	Ratio        float64 `json:"ratio"`
	OPAAllocs    float64 `json:"opa_allocs_per_decision"`
	CustosAllocs float64 `json:"custos_allocs_per_decision"`
	OPAVersion   string  `json:"opa_version"`
}

// Embedded runs OPA's prepared query and check.Decide on the same data,
// after checking both give the same decision for every query.
func (o *OPA) Embedded(ctx context.Context, data string, dur time.Duration, log io.Writer) (OPAEmbedded, error) {
	cmd := exec.CommandContext(ctx, o.bin, "embedded", "--data", data, "--duration", dur.String())
	cmd.Stderr = log
	out, err := cmd.Output()
	if err != nil {
		return OPAEmbedded{}, fmt.Errorf("OPA embedded run: %w", err)
	}
	var r OPAEmbedded
	if err := json.Unmarshal(out, &r); err != nil {
		return OPAEmbedded{}, fmt.Errorf("OPA embedded run: %w", err)
	}
	return r, nil
}

// Server starts OPA's own HTTP server with the same policy and data and
// returns its base URL and a stop function.
func (o *OPA) Server(ctx context.Context, data string, log io.Writer) (string, *os.Process, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := ServerCommand(o.bin, "serve", "--data", data, "--addr", addr)
	cmd.Stderr = log
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, nil, err
	}
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "ready" {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			stop()
			return "", nil, nil, fmt.Errorf("the OPA server exited before it was ready")
		}
	case <-time.After(60 * time.Second):
		stop()
		return "", nil, nil, fmt.Errorf("the OPA server was not ready within 60s")
	}
	return "http://" + addr, cmd.Process, stop, nil
}
