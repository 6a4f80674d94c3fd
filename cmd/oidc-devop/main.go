// Command oidc-devop runs the OpenID Connect provider kpiledger's tests use
// (zitadel/oidc's example OP with the people of package oidctest), for
// trying single sign-on on one machine: README "Single sign-on". It keeps
// everything in memory and its passwords are printed; it is not a provider
// for anything real.
//
//	go run ./cmd/oidc-devop [--addr 127.0.0.1:9998] [--dashboard http://127.0.0.1:8080]
//	go run ./cmd/oidc-devop token [--issuer URL] [--dashboard URL] USERNAME
//
// The second form signs USERNAME in at a running oidc-devop, through its
// login form, and prints the access token kpiledger's API accepts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/api/oidctest"
)

// The client registered for the dashboard.
const (
	clientID     = "kpiledger"
	clientSecret = "kpiledger-dev-secret"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "oidc-devop:", err)
		}
		os.Exit(2)
	}
}

func client(dashboard string) oidctest.Client {
	dashboard = strings.TrimSuffix(dashboard, "/")
	return oidctest.Client{ID: clientID, Secret: clientSecret, RedirectURIs: []string{dashboard + api.CallbackPath},
		PostLogout: []string{dashboard + "/signin?signed_out=1"}}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "token" {
		fs := flag.NewFlagSet("oidc-devop token", flag.ContinueOnError)
		fs.SetOutput(stderr)
		issuer := fs.String("issuer", "http://127.0.0.1:9998", "the running oidc-devop")
		dashboard := fs.String("dashboard", "http://127.0.0.1:8080", "the kpiledger dashboard it was started for")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("token needs one username, e.g. somchai@chiangmai.go.th")
		}
		u := oidctest.Person(fs.Arg(0))
		tok, err := (&oidctest.Provider{Issuer: *issuer}).Login(client(*dashboard), u.Username, u.Password)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, tok.Access)
		return nil
	}
	fs := flag.NewFlagSet("oidc-devop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9998", "listen address; the issuer is http://<addr>")
	dashboard := fs.String("dashboard", "http://127.0.0.1:8080", "the kpiledger dashboard's address, for its callback and sign-out")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, _ := strings.Cut(*addr, ":")
	p, err := oidctest.New(host, *addr, []oidctest.Client{client(*dashboard)}, oidctest.People)
	if err != nil {
		return err
	}
	defer p.Stop()
	fmt.Fprintf(stdout, "test identity provider at %s (in memory, for trying kpiledger only)\n", p.Issuer)
	fmt.Fprintf(stdout, "client id %s, secret %s, callback %s\n", clientID, clientSecret, client(*dashboard).RedirectURIs[0])
	fmt.Fprintln(stdout, "people (username / password: groups):")
	for _, u := range oidctest.People {
		fmt.Fprintf(stdout, "  %s / %s: %s\n", u.Username, u.Password, strings.Join(u.Groups, ", "))
	}
	<-ctx.Done()
	return nil
}
