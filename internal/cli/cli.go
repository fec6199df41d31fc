// Package cli implements the tandem command line: one file per command, wired from a table.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Env is the process environment a command runs in, so tests can run commands in process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// command is one subcommand. Commands with subcommands of their own dispatch with dispatch().
type command struct {
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

// commands is the table of top-level subcommands; each lives in its own file.
func commands() map[string]command {
	return map[string]command{
		"serve":      {"run the HTTP server with its bots", runServe},
		"migrate":    {"apply the store's schema migrations and exit", runMigrate},
		"backup":     {"copy the embedded store to a file while servers keep running", runBackup},
		"eval":       {"run conversation tests and compare runs; score NLU, sentiment or retrieval on datasets", runEval},
		"nlu":        {"train and save NLU models", runNLU},
		"kb":         {"manage the knowledge base: ingest, list, search, publish, reembed", runKB},
		"outbound":   {"ask a running server to write first to a customer (message, response or flow)", runOutbound},
		"deliveries": {"list and retry messages on their way to customers' channels", runDeliveries},
		"customers":  {"show a customer's stored data; erase a customer on request (right to erasure)", runCustomers},
		"bench":      {"measure throughput and latency", runBench},
		"chat":       {"talk to a bot in the terminal, showing what it understood and why", runChat},
		"bots":       {"bot folder tools: new, validate", runBots},
		"users":      {"list agents; set their role (supervisors and admins see the dashboard), skills, languages and capacity", runUsers},
		"version":    {"print the version", runVersion},
	}
}

// errUsage marks an error as a usage mistake (exit code 2).
var errUsage = errors.New("usage")

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, env Env, args []string) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	err := dispatch(ctx, env, "tandem", commands(), args)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(env.Stderr, "tandem:", err)
		return 2
	default:
		fmt.Fprintln(env.Stderr, "tandem:", err)
		return 1
	}
}

// dispatch runs the subcommand named by args[0] from table.
func dispatch(ctx context.Context, env Env, prefix string, table map[string]command, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(env.Stdout, prefix, table)
		if len(args) == 0 {
			return fmt.Errorf("%w: %s needs a subcommand", errUsage, prefix)
		}
		return nil
	}
	c, ok := table[args[0]]
	if !ok {
		return fmt.Errorf("%w: unknown command %q (see %s help)", errUsage, prefix+" "+args[0], prefix)
	}
	return c.run(ctx, env, args[1:])
}

func printHelp(w io.Writer, prefix string, table map[string]command) {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "Usage: %s <command> [flags]\n\nCommands:\n", prefix)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, table[n].summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> -h' for a command's flags.\n", prefix)
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(env Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// parseFlags parses args and turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s", errUsage, err)
	}
	return nil
}

// envDefault returns the environment value of key, or def when unset.
func envDefault(env Env, key, def string) string {
	if v := strings.TrimSpace(env.Getenv(key)); v != "" {
		return v
	}
	return def
}
