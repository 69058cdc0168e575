package docstest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestDeployKitSendsMessages checks that each deployment in deploy/ runs the
// server with a mail relay: without a message channel one-time codes go
// nowhere and public requests and sign-ins are refused, which a deployment
// copied from the kit must not find out in production. The settings must be
// in force, not commented out, and the relay's password must come from a
// file the server is given.
func TestDeployKitSendsMessages(t *testing.T) {
	root := repoRoot(t)
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(root, "deploy", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	t.Run("systemd", func(t *testing.T) {
		env := settings(read("custos.env"))
		for _, k := range []string{"CUSTOS_SMTP_ADDR", "CUSTOS_SMTP_FROM"} {
			if env.get(k) == "" {
				t.Errorf("deploy/custos.env does not set %s", k)
			}
		}
		// Checkpoints land in a state directory of the unit's own.
		if cp := env.get("CUSTOS_CHECKPOINTS"); !strings.HasPrefix(cp, "/var/lib/custos-checkpoints/") {
			t.Errorf("deploy/custos.env writes checkpoints to %q, not the unit's custos-checkpoints state directory", cp)
		}
		unit := settings(read("custos.service"))
		if dirs := strings.Fields(strings.Join(unit.all("StateDirectory"), " ")); !slices.Contains(dirs, "custos-checkpoints") {
			t.Errorf("deploy/custos.service has no custos-checkpoints state directory: %v", dirs)
		}
		if !slices.Contains(unit.all("LoadCredential"), "smtp-password:/etc/custos/secrets/smtp-password") ||
			!slices.Contains(unit.all("Environment"), "CUSTOS_SMTP_PASSWORD_FILE=%d/smtp-password") {
			t.Errorf("deploy/custos.service does not pass the relay's password as the smtp-password credential")
		}
	})

	t.Run("compose", func(t *testing.T) {
		var c struct {
			Services map[string]struct {
				Entrypoint  []string          `yaml:"entrypoint"`
				Environment map[string]string `yaml:"environment"`
				Secrets     []string          `yaml:"secrets"`
				Image       string            `yaml:"image"`
			} `yaml:"services"`
			Secrets map[string]struct {
				File string `yaml:"file"`
			} `yaml:"secrets"`
		}
		if err := yaml.Unmarshal(read("compose.yaml"), &c); err != nil {
			t.Fatal(err)
		}
		servers := 0
		for name, s := range c.Services {
			// The image's entrypoint is custos serve; the one-off services
			// name another.
			if !strings.Contains(s.Image, "custos") || len(s.Entrypoint) > 0 {
				continue
			}
			servers++
			for _, k := range []string{"CUSTOS_SMTP_ADDR", "CUSTOS_SMTP_FROM"} {
				if s.Environment[k] == "" {
					t.Errorf("service %s: %s is not set", name, k)
				}
			}
			secret, ok := strings.CutPrefix(s.Environment["CUSTOS_SMTP_PASSWORD_FILE"], "/run/secrets/")
			if !ok || !slices.Contains(s.Secrets, secret) || c.Secrets[secret].File == "" {
				t.Errorf("service %s: CUSTOS_SMTP_PASSWORD_FILE (%q) is not a secret the service is given", name, s.Environment["CUSTOS_SMTP_PASSWORD_FILE"])
			}
		}
		if servers == 0 {
			t.Errorf("deploy/compose.yaml runs no custos server; the test no longer reads it right")
		}
	})
}

// lines are KEY=VALUE settings (an environment file, a systemd unit), the
// commented ones left out; a key may repeat.
type lines map[string][]string

func settings(b []byte) lines {
	out := lines{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = append(out[k], v)
		}
	}
	return out
}

func (l lines) all(key string) []string { return l[key] }

// get is a key's last value, the one an environment file leaves in force.
func (l lines) get(key string) string {
	if v := l[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}
