package cli

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

var update = flag.Bool("update", false, "rewrite golden files")

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (run with -update and review):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

func TestCommands(t *testing.T) {
	tmp := t.TempDir()
	broken := filepath.Join(tmp, "broken.yaml")
	if err := os.WriteFile(broken, []byte("custos: 1\npolicy:\n  idd: x\n  languages: [fr]\nservices: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A dataset beside the starter's manifest binding one rule of many.
	partial := filepath.Join("..", "..", "examples", "starter", "partial.dataset.yaml")
	if err := os.WriteFile(partial, []byte("custos_dataset: 1\ndatastores:\n  - id: shop\n    kind: sqlite\n    dsn_env: SHOP_DSN\n    collections:\n"+
		"      - name: tickets\n        delete_row: true\n        retention: [{rule: support, clock: created_at}]\n        fields:\n"+
		"          - {name: id, primary_key: true, identity: user_id, categories: [account.id]}\n          - {name: created_at, data_type: datetime}\n"+
		"      - name: visits\n        fields: [{name: id, primary_key: true, identity: user_id, categories: [account.id]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(partial) })
	cert, tampered, certKeys, otherKeys := certificateFiles(t, tmp)
	tests := []struct {
		name     string
		args     []string
		code     int
		golden   string   // compare stdout with testdata/<golden>
		contains []string // stdout must contain
		errHas   []string // stderr must contain
	}{
		{name: "valid", args: []string{"validate", "../../examples/starter/custos.yaml", "../../examples/deepin/custos.yaml"}, code: 0},
		{name: "invalid reports every problem", args: []string{"validate", broken}, code: 1, contains: []string{
			broken + ":3:3: unknown key \"idd\" (did you mean \"id\"?)",
			broken + ":4:15: unknown value \"fr\": want one of zh-CN, zh-Hant, en",
			broken + ":5:11: want a list, got a mapping",
			broken + ":1:1: missing required key \"rights\"",
		}},
		{name: "missing file", args: []string{"validate", filepath.Join(tmp, "nope.yaml")}, code: 2, errHas: []string{"no such file"}},
		{name: "retention records", args: []string{"retention", "records"}, code: 0, golden: "retention-records.txt"},
		{name: "requests expire refuses a period below the legal minimum", args: []string{"requests", "expire", "--db", filepath.Join(tmp, "x.db"), "--request-retention", "1y"}, code: 2,
			errHas: []string{"CUSTOS_REQUEST_RETENTION", "PIPL art. 56"}},
		{name: "starter dataset binds every retention rule", args: []string{"validate", "../../examples/starter/dataset.yaml"}, code: 0},
		{name: "dataset binding some rules reports the rest", args: []string{"validate", partial}, code: 1, contains: []string{
			partial + `:13:15: collection "visits" holds personal data but no retention rule is bound to it`,
			`../../examples/starter/custos.yaml:1087:5: retention rule "account" is bound to no collection of ` + partial + `: nothing would end it`,
		}},
		{name: "promises with the dataset", args: []string{"policy", "promises", "--strict", "--dataset", "../../examples/starter/dataset.yaml", "../../examples/starter/custos.yaml"}, code: 1,
			errHas: []string{"not kept: retention:published (retention[5]): Custos does not yet observe the event that ends retention for shop.published_notes (purpose_fulfilled)"}},
		{name: "render needs a valid manifest", args: []string{"policy", "render", broken}, code: 1, errHas: []string{"unknown key \"idd\""}},
		{name: "render rejects unknown language", args: []string{"policy", "render", "../../examples/starter/custos.yaml", "--lang", "fr"}, code: 2, errHas: []string{"unsupported language \"fr\""}},
		{name: "render rejects unknown format", args: []string{"policy", "render", "../../examples/starter/custos.yaml", "--format", "pdf"}, code: 2, errHas: []string{"unsupported format \"pdf\""}},
		{name: "diff text", args: []string{"policy", "diff", "../../examples/starter/custos.yaml", "../../examples/starter/custos-v2.yaml"}, code: 0, golden: "diff-starter.txt"},
		{name: "diff json", args: []string{"policy", "diff", "--format", "json", "../../examples/starter/custos.yaml", "../../examples/starter/custos-v2.yaml"}, code: 0, golden: "diff-starter.json"},
		{name: "diff exit code", args: []string{"policy", "diff", "--exit-code", "../../examples/starter/custos.yaml", "../../examples/starter/custos-v2.yaml"}, code: 3},
		{name: "diff identical", args: []string{"policy", "diff", "--exit-code", "../../examples/starter/custos.yaml", "../../examples/starter/custos.yaml"}, code: 0, contains: []string{"0 change(s)", "material: no"}},
		{name: "inventory csv", args: []string{"inventory", "../../examples/deepin/custos.yaml", "--format", "csv"}, code: 0, contains: []string{"controller,protection_contact"}},
		{name: "schema", args: []string{"schema"}, code: 0, contains: []string{`"$schema": "https://json-schema.org/draft/2020-12/schema"`}},
		{name: "promises text", args: []string{"policy", "promises", "../../examples/starter/custos.yaml"}, code: 0, golden: "promises-starter.txt"},
		{name: "promises json", args: []string{"policy", "promises", "--format", "json", "../../examples/opengemini/custos.yaml"}, code: 0, golden: "promises-opengemini.json"},
		{name: "promises markdown", args: []string{"policy", "promises", "--format", "markdown", "--lang", "zh-CN", "../../examples/deepin/custos.yaml"}, code: 0, contains: []string{"| Promise | Field | Keeper | Kept by / why |", "| not_kept |"}},
		{name: "promises strict names what is not kept", args: []string{"policy", "promises", "--strict", "../../examples/starter/custos.yaml"}, code: 1, errHas: []string{"not kept: retention:", "not kept: transfer_notice (sharing.transfer.notify)", "promise(s) not kept"}},
		{name: "promises rejects unknown format", args: []string{"policy", "promises", "--format", "pdf", "../../examples/starter/custos.yaml"}, code: 2, errHas: []string{"unsupported format \"pdf\""}},
		{name: "help", args: []string{"--help"}, code: 0, golden: "help.txt"},
		{name: "certificate verify", args: []string{"certificate", "verify", cert, "--keys", certKeys}, code: 0, golden: "certificate-verify.txt"},
		{name: "certificate verify json", args: []string{"certificates", "verify", "--json", cert, "--keys", certKeys}, code: 0, golden: "certificate-verify.json"},
		{name: "certificate tampered", args: []string{"certificate", "verify", tampered, "--keys", certKeys}, code: 1, errHas: []string{
			tampered + " does NOT verify: the signature does not match"}},
		{name: "certificate tampered json", args: []string{"certificate", "verify", "--json", tampered, "--keys", certKeys}, code: 1, contains: []string{
			`"verified": false`, `"error": "the signature does not match`}},
		{name: "certificate unknown key", args: []string{"certificate", "verify", cert, "--keys", otherKeys}, code: 1, errHas: []string{
			"signed with key kid-cli-test, which the key set does not hold"}},
		{name: "certificate not a certificate", args: []string{"certificate", "verify", certKeys, "--keys", certKeys}, code: 1, errHas: []string{
			"malformed certificate"}},
		{name: "certificate needs keys", args: []string{"certificate", "verify", cert}, code: 2, errHas: []string{`"keys" not set`}},
		{name: "certificate missing file", args: []string{"certificate", "verify", filepath.Join(tmp, "nope.json"), "--keys", certKeys}, code: 2, errHas: []string{"no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			if tt.golden != "" {
				golden(t, tt.golden, out)
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.errHas {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

// Every command documents itself.
func TestEveryCommandHasHelp(t *testing.T) {
	root := newRoot(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	for _, c := range allCommands(root) {
		if c.Short == "" {
			t.Errorf("%q has no short description", c.CommandPath())
		}
		if c.Runnable() && c.Long == "" {
			t.Errorf("%q has no long help", c.CommandPath())
		}
	}
}

func TestRenderWritesFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "policy.html")
	if _, errOut, code := run(t, "policy", "render", "../../examples/starter/custos.yaml", "--lang", "zh-CN", "--format", "html", "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<html lang="zh-CN">`, "<nav", "目录", "</html>"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("rendered file lacks %q", want)
		}
	}
}

func allCommands(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		if sub.Name() == "help" || sub.Name() == "completion" {
			continue
		}
		out = append(out, allCommands(sub)...)
	}
	return out
}

// TestVersion: the version names the module version, the revision and Go.
func TestVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abc"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.time", Value: "2026-12-06T06:00:00Z"}}}
	want := "custos v0.3.0\nrevision: 0123abc (modified)\nbuilt from a commit of: 2026-12-06T06:00:00Z\ngo: go1.26.0\n"
	if got := versionText(bi, true); got != want {
		t.Errorf("versionText =\n%s\nwant\n%s", got, want)
	}
	if got := versionText(nil, false); !strings.Contains(got, "no build information") {
		t.Errorf("without build information: %q", got)
	}
	out, _, code := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "custos ") || !strings.Contains(out, "go: go1.") {
		t.Errorf("custos version = %d %q", code, out)
	}
}

// TestSubcommandsShowTheirOwnFlags: a command that opens the store shows
// the store's flags, not the server's.
func TestSubcommandsShowTheirOwnFlags(t *testing.T) {
	root := newRoot(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	for _, c := range allCommands(root) {
		if c.Name() == "serve" || c.Name() == "config" {
			continue
		}
		var help bytes.Buffer
		c.SetOut(&help)
		if err := c.Help(); err != nil {
			t.Fatal(err)
		}
		for _, flag := range []string{"--banner-origins", "--smtp-addr", "--addr ", "--trust-proxy", "--notify-dir"} {
			if strings.Contains(help.String(), flag) {
				t.Errorf("%q --help lists the server flag %s", c.CommandPath(), flag)
			}
		}
	}
}

// TestUnknownSubcommandFails: a misspelt subcommand of any group fails
// with exit status 2 and a suggestion, instead of printing the group's
// help with status 0.
func TestUnknownSubcommandFails(t *testing.T) {
	var groups [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.HasSubCommands() && c.HasParent() {
			groups = append(groups, path)
		}
		for _, sub := range c.Commands() {
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
	}
	walk(newRoot(nil, io.Discard, io.Discard), nil)
	if len(groups) < 8 {
		t.Fatalf("found %d command groups; the walk broke", len(groups))
	}
	for _, g := range groups {
		out, errOut, code := run(t, append(slices.Clone(g), "pepper")...)
		if code != 2 || !strings.Contains(errOut, `unknown command "pepper"`) {
			t.Errorf("custos %s pepper = %d\n%s%s", strings.Join(g, " "), code, out, errOut)
		}
		if out, _, code := run(t, g...); code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("custos %s = %d, want its help", strings.Join(g, " "), code)
		}
	}
	if _, errOut, _ := run(t, "keys", "revok"); !strings.Contains(errOut, "did you mean revoke?") {
		t.Errorf("custos keys revok: %s", errOut)
	}
}
