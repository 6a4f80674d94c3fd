package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
)

func runToken(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("token --role R [--unit U] [--sub NAME] [--ttl D] [--data-dir DIR]",
		"Prints a bearer token signed with the key the server uses (KPILEDGER_TOKEN_KEY, or\nthe key in the data directory). Roles: opdc, unit (needs --unit), auditor.\nExample: kpiledger token --role unit --unit TH-50 --sub somchai", stderr)
	role := fs.String("role", "", "opdc, unit or auditor (required)")
	unit := fs.String("unit", "", "for role unit: the unit it writes for, e.g. TH-50 or cdd")
	sub := fs.String("sub", "", "who the token is for (default: the role's name)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	dataDir := fs.String("data-dir", envOr(getenv, "KPILEDGER_DATA_DIR", "./data"), "the server's data directory (env KPILEDGER_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *role == "" {
		fs.Usage()
		return fmt.Errorf("--role is required")
	}
	if *sub == "" {
		*sub = *role
		if *unit != "" {
			*sub = *role + "@" + *unit
		}
	}
	key, err := api.LoadTokenKey(*dataDir, getenv)
	if err != nil {
		return err
	}
	tok, err := api.IssueToken(key, api.Principal{Subject: *sub, Role: domain.Role(*role), Unit: *unit}, *ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
