package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
)

func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("token --role R [--unit U] [--sub NAME] [--ttl D] [--data-dir DIR] [--url URL]",
		"Prints a bearer token signed with the key the server uses (KPILEDGER_TOKEN_KEY, or\nthe key in the data directory). Roles: opdc, unit (needs --unit), auditor.\nA unit token is made only for a unit the ledger knows: a province's code, or a\ndepartment registered in the running ledger at --url.\nExample: kpiledger token --role unit --unit TH-50 --sub somchai", stderr)
	role := fs.String("role", "", "opdc, unit or auditor (required)")
	unit := fs.String("unit", "", "for role unit: the unit it writes for, e.g. TH-50 or cdd")
	sub := fs.String("sub", "", "who the token is for (default: the role's name)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	maxTTL := fs.Duration("token-max-ttl", envDuration(getenv, "KPILEDGER_TOKEN_MAX_TTL", api.DefaultMaxTokenTTL), "the longest --ttl allowed; the server refuses longer-lived tokens (env KPILEDGER_TOKEN_MAX_TTL)")
	dataDir := fs.String("data-dir", envOr(getenv, "KPILEDGER_DATA_DIR", "./data"), "the server's data directory (env KPILEDGER_DATA_DIR)")
	base := fs.String("url", envOr(getenv, "KPILEDGER_URL", "http://127.0.0.1:8080"), "the running ledger, asked whether a department --unit is registered (env KPILEDGER_URL)")
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
	p := api.Principal{Subject: *sub, Role: domain.Role(*role), Unit: *unit}
	now := time.Now()
	// Check the token's own claims first: a malformed one needs no ledger.
	tok, err := api.IssueTokenWithin(key, p, *ttl, *maxTTL, now)
	if err != nil {
		return err
	}
	if p.Role == domain.RoleUnit {
		if _, province := domain.ProvinceByCode(p.Unit); !province {
			if err := checkDepartment(ctx, *base, key, p.Unit, now); err != nil {
				return err
			}
		}
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// checkDepartment asks the running ledger whether a department is
// registered: a token for a unit it does not know would be refused by it,
// and must not wait for someone to register that unit.
func checkDepartment(ctx context.Context, base string, key []byte, code string, now time.Time) error {
	tok, err := api.IssueToken(key, api.Principal{Subject: "kpiledger-token", Role: domain.RoleAuditor}, time.Minute, now)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/v1/units", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%q is not a province's code, and the ledger at %s could not be asked whether it is a registered department (%v); start the ledger or pass --url", code, base, err)
	}
	defer res.Body.Close()
	var list struct {
		Units []domain.Unit `json:"units"`
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("the ledger at %s answered %s when asked for its units", base, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
		return fmt.Errorf("the ledger at %s: %w", base, err)
	}
	for _, u := range list.Units {
		if u.Code == code {
			return nil
		}
	}
	return fmt.Errorf("unknown unit %q: it is not a province's code (TH-10 … TH-96) nor a department registered in the ledger at %s (POST /v1/units registers one)", code, base)
}
