package scanbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Peer is an npm redactor measured beside Custos, and the driver script
// (under the scanpeers directory of a source checkout) that runs it.
type Peer struct {
	Name    string // npm package
	Version string
	Script  string
}

// Peers are the npm redactors compared.
var Peers = []Peer{
	{"redact-pii", "3.4.0", "redact-pii.mjs"},
	{"openredaction", "1.1.5", "openredaction.mjs"},
	{"@redactpii/node", "1.0.17", "redactpii-node.mjs"},
}

// PeerSummary is the last line a driver prints.
type PeerSummary struct {
	Peer     string  `json:"peer"`
	Version  string  `json:"version"`
	Bytes    int64   `json:"bytes"`
	Seconds  float64 `json:"seconds"`
	MaxRSS   int64   `json:"maxRSS"`
	Findings int64   `json:"findings"`
	Errors   int64   `json:"errors"` // calls that failed, counted as finding nothing
	Complete bool    `json:"complete"`
}

// ParseSummary reads a driver's standard output: its last non-empty line
// is the summary.
func ParseSummary(out []byte) (PeerSummary, error) {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	var s PeerSummary
	if last == "" {
		return s, fmt.Errorf("driver printed no summary")
	}
	dec := json.NewDecoder(strings.NewReader(last))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("driver summary: %v", err)
	}
	if s.Peer == "" || s.Bytes < 0 || s.Seconds < 0 || s.Findings < 0 || s.Errors < 0 {
		return s, fmt.Errorf("driver summary: incomplete or negative figures")
	}
	return s, nil
}

// ParseCorpusFinding reads one line of a driver's corpus findings:
// "START END TYPE", byte offsets. The type is the peer's own.
func ParseCorpusFinding(line string) (start, end int64, typ string, err error) {
	f := strings.Fields(line)
	if len(f) != 3 {
		return 0, 0, "", fmt.Errorf("want START END TYPE, got %d fields", len(f))
	}
	start, err1 := strconv.ParseInt(f[0], 10, 64)
	end, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, "", fmt.Errorf("bad offsets")
	}
	return start, end, f[2], nil
}

// ParseEvalFindings reads a driver's eval findings, "INDEX START END TYPE"
// a line, into findings per sample of n samples; types are mapped with
// PeerType.
func ParseEvalFindings(r io.Reader, n int) ([][]Finding, error) {
	out := make([][]Finding, n)
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("eval findings line %d: want INDEX START END TYPE", line)
		}
		i, err0 := strconv.Atoi(f[0])
		s, err1 := strconv.ParseInt(f[1], 10, 64)
		e, err2 := strconv.ParseInt(f[2], 10, 64)
		if err0 != nil || err1 != nil || err2 != nil || i < 0 || i >= n || s < 0 || e < s {
			return nil, fmt.Errorf("eval findings line %d: bad index or offsets", line)
		}
		out[i] = append(out[i], Finding{Start: s, End: e, Type: PeerType(f[3])})
	}
	return out, sc.Err()
}

// InstallPeers installs the peers' npm packages into dir with the local
// cache preferred and no install scripts, one package at a time so that
// one that cannot be installed leaves the others. It returns, per peer
// name, why it is unavailable.
func InstallPeers(ctx context.Context, dir string, log io.Writer) map[string]string {
	unavailable := map[string]string{}
	if _, err := exec.LookPath("node"); err != nil {
		for _, p := range Peers {
			unavailable[p.Name] = "node is not installed"
		}
		return unavailable
	}
	npm := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "npm", args...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("npm %s: %v: %s", args[0], err, lastLine(out.String()))
		}
		return nil
	}
	if err := npm("init", "-y"); err != nil {
		for _, p := range Peers {
			unavailable[p.Name] = err.Error()
		}
		return unavailable
	}
	for _, p := range Peers {
		fmt.Fprintf(log, "installing %s@%s …\n", p.Name, p.Version)
		ictx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		cmd := exec.CommandContext(ictx, "npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", p.Name+"@"+p.Version)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			unavailable[p.Name] = fmt.Sprintf("npm install: %v: %s", err, lastLine(string(out)))
		}
	}
	return unavailable
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// runDriver runs a peer's driver in dir (where the packages are installed)
// and returns its summary; the driver's peak RSS as the kernel saw it
// (VmHWM, sampled while it runs) is kept where larger than its own.
func runDriver(ctx context.Context, scripts, dir string, p Peer, args ...string) (PeerSummary, error) {
	script, err := filepath.Abs(filepath.Join(scripts, p.Script))
	if err != nil {
		return PeerSummary{}, err
	}
	cmd := exec.CommandContext(ctx, "node", append([]string{"--max-old-space-size=4096", script}, args...)...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return PeerSummary{}, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var hwm int64
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return PeerSummary{}, fmt.Errorf("%s: %v: %s", p.Name, err, lastLine(stderr.String()))
			}
			s, err := ParseSummary(stdout.Bytes())
			if err != nil {
				return s, fmt.Errorf("%s: %v", p.Name, err)
			}
			s.MaxRSS = max(s.MaxRSS, hwm)
			return s, nil
		case <-tick.C:
			if v := procHWM(cmd.Process.Pid); v > hwm {
				hwm = v
			}
		}
	}
}

// procHWM reads VmHWM of a process in bytes; 0 where it cannot.
func procHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
