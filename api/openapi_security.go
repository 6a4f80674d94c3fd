package api

import "strings"

// The OpenAPI document's security schemes, kept apart from openapi.go: the
// ledger's own tokens (bearerAuth, unless --local-tokens=false) and, with
// single sign-on, the identity provider's access tokens (oidc). A /v1 call
// needs either one.

// securitySchemes is components.securitySchemes.
func (s *Server) securitySchemes() map[string]any {
	out := map[string]any{}
	if !s.noLocalTokens {
		out["bearerAuth"] = map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
			"description": "A local token: HS256, issuer kpiledger, minted with `kpiledger token`."}
	}
	if s.oidc != nil {
		c := s.oidc.Config()
		out["oidc"] = map[string]any{"type": "openIdConnect", "openIdConnectUrl": strings.TrimSuffix(c.Issuer, "/") + "/.well-known/openid-configuration",
			"description": "An access token (JWT) from the identity provider, sent as Authorization: Bearer <token>, for audience " + c.Audience +
				". The role comes from its " + c.Claim + " claim: " + c.Prefix + "opdc, " + c.Prefix + "auditor or " + c.Prefix + "unit:<unit code>."}
	}
	return out
}

// securityRequirement is each /v1 operation's security: any one scheme.
func (s *Server) securityRequirement() []map[string][]string {
	var out []map[string][]string
	if !s.noLocalTokens {
		out = append(out, map[string][]string{"bearerAuth": {}})
	}
	if s.oidc != nil {
		out = append(out, map[string][]string{"oidc": {}})
	}
	return out
}
