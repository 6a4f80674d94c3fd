package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestServeSSOFlags: every single sign-on flag is in `serve --help` with
// its environment variable and in the README's "Single sign-on" table;
// settings that could serve nobody are refused at start.
func TestServeSSOFlags(t *testing.T) {
	var help strings.Builder
	_, _ = parseServe([]string{"--help"}, func(string) string { return "" }, &help)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(readme), "\n## Single sign-on\n")
	if start < 0 {
		t.Fatal("README.md has no Single sign-on section")
	}
	section := string(readme[start:])
	section = section[:strings.Index(section[1:], "\n## ")+1]
	flags := regexp.MustCompile(`(?m)^\s+-((?:oidc-[a-z-]+)|session-ttl|local-tokens)\b.*\n\s+(.*)`).FindAllStringSubmatch(help.String(), -1)
	if len(flags) != 12 {
		t.Fatalf("serve --help lists %d single sign-on flags, want 12:\n%s", len(flags), help.String())
	}
	for _, f := range flags {
		env := regexp.MustCompile(`env (KPILEDGER_[A-Z_]+)`).FindStringSubmatch(f[2])
		if env == nil {
			t.Errorf("--%s has no environment variable in --help", f[1])
			continue
		}
		if !strings.Contains(section, "`--"+f[1]+"`") || !strings.Contains(section, "`"+env[1]+"`") {
			t.Errorf("the README's Single sign-on table lacks --%s or %s", f[1], env[1])
		}
	}

	env := map[string]string{"KPILEDGER_OIDC_ISSUER": "https://sso.example.go.th/realms/opdc", "KPILEDGER_OIDC_CLIENT_ID": "kpiledger",
		"KPILEDGER_OIDC_REDIRECT_URL": "https://kpi.example.go.th/signin/oidc/callback", "KPILEDGER_LOCAL_TOKENS": "false",
		"KPILEDGER_OIDC_SCOPES": "openid, groups"}
	cfg, err := parseServe(nil, func(k string) string { return env[k] }, &help)
	if err != nil {
		t.Fatal(err)
	}
	o, err := cfg.SSO.oidc(nil)
	if err != nil || o == nil || cfg.SSO.LocalTokens {
		t.Fatalf("from the environment: %v %v %+v", o, err, cfg.SSO)
	}
	if c := o.Config(); c.Audience != "kpiledger" || strings.Join(c.Scopes, " ") != "openid groups" || c.Claim != "groups" || c.Name != "sso.example.go.th" {
		t.Errorf("config %+v", c)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--local-tokens=false"}, "needs single sign-on"},
		{[]string{"--demo", "--local-tokens=false", "--oidc-issuer", "https://x"}, "--demo"},
		{[]string{"--oidc-issuer", "https://sso.example.go.th"}, "client id"},
		{[]string{"--oidc-issuer", "sso.example.go.th", "--oidc-client-id", "k"}, "http(s) URL"},
		{[]string{"--oidc-issuer", "https://sso.example.go.th", "--oidc-client-id", "k"}, "callback URL"},
	} {
		cfg, err := parseServe(c.args, func(string) string { return "" }, &help)
		if err == nil {
			_, err = cfg.SSO.oidc(nil)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error about %q", c.args, err, c.want)
		}
	}
}
