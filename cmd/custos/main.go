// Command custos turns a privacy manifest into a policy and keeps its promises.
package main

import (
	"os"

	"github.com/custos-privacy/custos/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
