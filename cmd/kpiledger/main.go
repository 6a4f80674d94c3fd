// Command kpiledger runs the event-sourced ledger of Thailand's public-sector
// performance evaluation: `serve` runs it (embedded NATS JetStream by
// default), `token` prints a bearer token, and the other subcommands verify,
// load demo data and benchmark. Run `kpiledger help` for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/opdc/kpiledger/cmd/kpiledger/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	var ec exitCode
	switch {
	case err == nil:
	case errors.As(err, &ec):
		os.Exit(int(ec))
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "kpiledger:", err)
		os.Exit(1)
	}
}

// exitCode ends the process with a code after the command printed why.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":       {"run the ledger: embedded NATS JetStream (or --nats-url) and the HTTP API", runServe},
		"token":       {"print a bearer token signed with the server's key", runToken},
		"verify":      {"check an export bundle offline (or print the verifier key)", runVerify},
		"demo":        {"load the demo data (FY2561-FY2567) into a running ledger through its API", runDemo},
		"export":      {"download an export bundle from a running ledger", runExport},
		"import":      {"upload an edited indicators or results spreadsheet to a running ledger (--dry-run first)", runImport},
		"witness":     {"cosign a ledger's checkpoints after checking it only grew (a separate process with its own key)", runWitness},
		"healthcheck": {"exit 0 when a running ledger is ready (for container healthchecks)", runHealthcheck},
		"bench":       {"benchmark against JetStream's own figures on an embedded server (--quick for CI)", bench.Run},
	}
}

// run is the whole program; tests call it exactly as main does.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout, cmds)
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		usage(stderr, cmds)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return c.run(ctx, args[1:], getenv, stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "kpiledger — the event-sourced ledger of Thailand's public-sector performance evaluation")
	fmt.Fprintln(w, "\nUsage: kpiledger <command> [flags]   (kpiledger <command> --help for its flags)\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, cmds[n].summary)
	}
}

// newFlags makes a flag set that prints its usage to stderr and returns
// flag.ErrHelp on --help instead of exiting.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kpiledger %s\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// envOr returns the environment value or a default.
func envOr(getenv func(string) string, key, def string) string {
	if v := strings.TrimSpace(getenv(key)); v != "" {
		return v
	}
	return def
}
