package cli

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestOrgs drives the registry from the command line: create, the errors a
// person can make, list, disable and enable, and the trail they leave.
func TestOrgs(t *testing.T) {
	db := filepath.Join(t.TempDir(), "custos.db")
	mustRun(t, "", "migrate", "--db", db)
	stamp := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	var transcript strings.Builder
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"orgs", "create", "wuhan-deepin", "--name", "武汉深之度科技有限公司"}, 0},
		{[]string{"orgs", "create", "acme", "--name", "Acme Ltd"}, 0},
		{[]string{"orgs", "create", "acme", "--name", "Acme again"}, 2},
		{[]string{"orgs", "create", "Acme_2", "--name", "Acme"}, 2},
		{[]string{"orgs", "create", "default", "--name", "Us"}, 2},
		{[]string{"orgs", "create", "beta"}, 2},
		{[]string{"orgs", "disable", "acme"}, 0},
		{[]string{"orgs", "disable", "acme"}, 0},
		{[]string{"orgs", "disable", "default"}, 2},
		{[]string{"orgs", "disable", "nobody"}, 2},
		{[]string{"orgs", "list"}, 0},
		{[]string{"orgs", "enable", "acme"}, 0},
		{[]string{"orgs", "lst"}, 2},
	} {
		args := tt.args
		if args[1] != "lst" { // an unknown subcommand takes no flags
			args = append(args, "--db", db)
		}
		out, errOut, code := run(t, args...)
		if code != tt.code {
			t.Errorf("custos %s: exit %d, want %d\n%s%s", strings.Join(tt.args, " "), code, tt.code, out, errOut)
		}
		transcript.WriteString("$ custos " + strings.Join(tt.args, " ") + "\n" + out)
		if errOut != "" {
			transcript.WriteString("stderr: " + lastLine(errOut) + "\n")
		}
	}
	golden(t, "orgs.txt", stamp.ReplaceAllString(transcript.String(), "TIME"))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
