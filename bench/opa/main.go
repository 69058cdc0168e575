// Command opa compares Custos's consent decision (internal/check) with Open
// Policy Agent evaluating the same decision, written in Rego, on the same data.
//
//	opa embedded --data FILE [--duration 5s]   both engines in-process; prints one JSON object
//	opa serve --data FILE --addr HOST:PORT     OPA's own HTTP server; prints "ready" once it answers
//	opa gen [--subjects 1000] [--queries 5000] [--seed 1]   a varied data file on stdout
//
// It is a module of its own so that OPA never becomes a dependency of Custos.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var pe *parityError
		if !errors.As(err, &pe) {
			fmt.Fprintln(os.Stderr, "opa:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage:
  opa embedded --data FILE [--duration 5s]
  opa serve --data FILE --addr HOST:PORT
  opa gen [--subjects 1000] [--queries 5000] [--seed 1]`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataPath := fs.String("data", "", "data file: policy, subjects and queries (JSON)")
	switch args[0] {
	case "embedded":
		duration := fs.Duration("duration", 5*time.Second, "how long to run each engine")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *dataPath == "" || *duration <= 0 {
			return errors.New(usage)
		}
		d, err := loadData(*dataPath)
		if err != nil {
			return err
		}
		res, err := embedded(context.Background(), d, *duration, stderr)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		return enc.Encode(res)
	case "serve":
		addr := fs.String("addr", "127.0.0.1:8181", "address to listen on")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *dataPath == "" {
			return errors.New(usage)
		}
		d, err := loadData(*dataPath)
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return serve(ctx, d, *addr, func(string) { fmt.Fprintln(stdout, "ready") })
	case "gen":
		var o GenOptions
		fs.IntVar(&o.Subjects, "subjects", 1000, "number of subjects")
		fs.IntVar(&o.Queries, "queries", 5000, "number of queries")
		fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if o.Subjects < 0 || o.Queries <= 0 {
			return errors.New(usage)
		}
		return json.NewEncoder(stdout).Encode(Generate(o))
	default:
		return fmt.Errorf("unknown mode %q\n%s", args[0], usage)
	}
}
