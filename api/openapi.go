package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/opdc/kpiledger/domain"
)

// openapi serves the OpenAPI 3 document generated from the route table.
func (s *Server) openapi(c echo.Context) error {
	return c.JSON(http.StatusOK, s.OpenAPI())
}

// Parameters, headers and error responses shared by many operations live
// in components and are referenced by name.
var (
	commonParams = map[string]map[string]any{
		"pretty": {"name": "pretty", "in": "query", "allowEmptyValue": true, "schema": map[string]any{"type": "string"},
			"description": "present (even empty, ?pretty): indent the JSON answer"},
		"min_sequence": {"name": "min_sequence", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 0, "format": "int64"},
			"description": "answer only once this node's read model includes this stream sequence (a write's `sequence` through another node); 503 if it does not within the write wait"},
		"X-Min-Sequence": {"name": "X-Min-Sequence", "in": "header", "schema": map[string]any{"type": "integer", "minimum": 0, "format": "int64"},
			"description": "as ?min_sequence= (the query parameter wins when both are given)"},
		"Idempotency-Key": {"name": "Idempotency-Key", "in": "header", "schema": map[string]any{"type": "string", "pattern": idempotencyKey.String()},
			"description": "repeating a key with the same body returns the first answer (Idempotent-Replayed: true) and appends nothing; with another body it is 422"},
		"X-Occurred-At": {"name": "X-Occurred-At", "in": "header", "schema": map[string]any{"type": "string", "format": "date-time"},
			"description": "when the thing happened in the world, as the client asserts it (RFC 3339, not in the future, not before 2000); recorded beside the ledger's own recorded_at"},
		"X-Correlation-ID": {"name": "X-Correlation-ID", "in": "header", "schema": map[string]any{"type": "string"},
			"description": "recorded on the event; a value longer than 128 characters is replaced by the command id"},
		"format": {"name": "format", "in": "query", "schema": map[string]any{"type": "string", "enum": []any{"json", "xlsx", "csv"}},
			"description": "the view as JSON (default), an Excel workbook (xlsx: a sheet per table, Thai titles and column keys frozen, scores to 4 decimals), or CSV (UTF-8 with a byte-order mark: one table, see sheet); Accept chooses the same when format is absent"},
		"If-None-Match": {"name": "If-None-Match", "in": "header", "schema": map[string]any{"type": "string"},
			"description": "the ETag of an earlier answer: 304 Not Modified while the view is unchanged"},
		"sheet": {"name": "sheet", "in": "query", "schema": map[string]any{"type": "string", "pattern": "^[a-z_]+$"},
			"description": "with format=csv: which of the view's tables (e.g. components of a scorecard); default the first"},
	}
	responseHeaders = map[string]map[string]any{
		"ETag": {"description": `the resource's version, quoted ("3"); send it back in If-Match`, "required": true,
			"schema": map[string]any{"type": "string", "pattern": `^"[0-9]+"$`}},
		"Location": {"description": "where the created resource is read", "required": true, "schema": map[string]any{"type": "string"}},
		"Idempotent-Replayed": {"description": "true when this is the stored answer to an earlier request with the same Idempotency-Key",
			"schema": map[string]any{"type": "string", "enum": []any{"true"}}},
		"WWW-Authenticate": {"description": "the bearer challenge", "required": true, "schema": map[string]any{"type": "string"}},
		"ViewETag": {"description": "a fingerprint of this view's answer; send it back in If-None-Match for a 304 while unchanged",
			"schema": map[string]any{"type": "string"}},
		"Content-Disposition": {"description": "the download's file name", "schema": map[string]any{"type": "string"}},
	}
	// errorResponses name each error status's component response.
	errorResponses = map[int]struct{ name, description string }{
		400: {"BadRequest", "Invalid request: a parameter, header or body field is malformed or fails validation (errors[] names the fields)"},
		401: {"Unauthenticated", "No bearer token, or an invalid or expired one"},
		403: {"Forbidden", "The token's role may not do this, or it is another unit's data"},
		404: {"NotFound", "No such resource"},
		409: {"Conflict", "The current state forbids this, If-Match names a stale version (current_version), or the resource kept changing"},
		406: {"NotAcceptable", "This resource has no spreadsheet form"},
		413: {"TooLarge", "The request body exceeds the size limit"},
		415: {"NotASpreadsheet", "The uploaded file is not an XLSX workbook or UTF-8 CSV"},
		429: {"RateLimited", "This caller has written faster than its allowance: retry after Retry-After seconds"},
		422: {"IdempotencyKeyReused", "This Idempotency-Key was already used with a different request body"},
		428: {"PreconditionRequired", "This write revises or decides on a versioned resource: If-Match is required"},
		503: {"Unavailable", "The read model is catching up or stopped, or the log did not confirm the write in time; retry (with the same Idempotency-Key)"},
	}
)

// OpenAPI builds the document: every route of the table, with request and
// response schemas derived from the Go types the handlers decode and encode.
func (s *Server) OpenAPI() map[string]any {
	g := &schemaGen{defs: map[string]any{}, names: map[string]reflect.Type{}}
	paths := map[string]map[string]any{}
	var requestSchemas []any
	g.schema(reflect.TypeOf(Problem{})) // first, so that it keeps its plain name
	for _, r := range s.routes {
		path, params := openapiPath(r.Path)
		op := map[string]any{
			"summary":     r.Summary,
			"description": "Who may call it: " + r.Access + ".",
			"operationId": operationID(r.Method, r.Path),
		}
		ref := func(name string) map[string]any {
			return map[string]any{"$ref": "#/components/parameters/" + name}
		}
		if r.Produces == "" {
			params = append(params, ref("pretty"))
		}
		errs := slices.Clone(r.Errors)
		if !r.Public {
			op["security"] = s.securityRequirement() // openapi_security.go
			params = append(params, ref("min_sequence"), ref("X-Min-Sequence"))
			errs = append(errs, 400, 401, 503)
		}
		for _, q := range r.Query {
			params = append(params, q.openapi("query"))
		}
		if r.Command {
			params = append(params, ref("Idempotency-Key"), ref("X-Occurred-At"), ref("X-Correlation-ID"))
			if !slices.ContainsFunc(r.Headers, func(p param) bool { return p.Name == hIfMatch.Name }) {
				// Every command parses If-Match; those that decide on a
				// version declare it themselves (required where 428).
				params = append(params, hIfMatch.openapi("header"))
			}
			errs = append(errs, 400, 409, 413, 422, 429, 503)
		}
		for _, h := range r.Headers {
			params = append(params, h.openapi("header"))
		}
		if r.Downloads {
			params = append(params, ref("format"), ref("sheet"))
			errs = append(errs, 406)
		}
		if r.Cached {
			params = append(params, ref("If-None-Match"))
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if len(r.Uploads) > 0 {
			binary := map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
			content := map[string]any{"multipart/form-data": map[string]any{"schema": map[string]any{
				"type": "object", "required": []any{"file"},
				"properties": map[string]any{"file": map[string]any{"type": "string", "format": "binary"}}}}}
			for _, m := range r.Uploads {
				content[m] = binary
			}
			op["requestBody"] = map[string]any{"required": true, "content": content}
			errs = append(errs, 400, 413, 415, 429)
		}
		if r.Body != nil {
			schema := g.schema(reflect.TypeOf(r.Body))
			requestSchemas = append(requestSchemas, schema)
			op["requestBody"] = map[string]any{"required": !r.OptionalBody, "content": map[string]any{
				"application/json": map[string]any{"schema": schema}}}
			errs = append(errs, 400, 413)
		}

		responses := map[string]any{"default": map[string]any{"$ref": "#/components/responses/Error"}}
		for _, status := range append([]int{r.Status}, r.Also...) {
			ok := map[string]any{"description": http.StatusText(status)}
			content := map[string]any{}
			switch {
			case r.Produces != "":
				content[r.Produces] = map[string]any{"schema": map[string]any{"type": "string"}}
			case r.Out != nil:
				content["application/json"] = map[string]any{"schema": g.schema(reflect.TypeOf(r.Out))}
			}
			if status < 300 {
				also := r.AlsoProduces
				if r.Downloads {
					also = append(also, sheetsMediaXLSX, sheetsMediaCSV)
				}
				for _, m := range also {
					content[m] = map[string]any{"schema": map[string]any{"type": "string"}}
				}
			}
			if len(content) > 0 {
				ok["content"] = content
			}
			headers := map[string]any{}
			hdr := func(name string) { headers[name] = map[string]any{"$ref": "#/components/headers/" + name} }
			if status < 300 && (r.ETag || r.Command) {
				hdr("ETag")
			}
			if status < 300 && r.Cached {
				headers["ETag"] = map[string]any{"$ref": "#/components/headers/ViewETag"}
			}
			if status < 300 && r.Command {
				hdr("Idempotent-Replayed")
			}
			if status == http.StatusCreated && r.Location {
				hdr("Location")
			}
			if r.Produces == "application/x-ndjson" || r.Produces == sheetsMediaXLSX || (r.Downloads && status < 300) {
				hdr("Content-Disposition")
			}
			if len(headers) > 0 {
				ok["headers"] = headers
			}
			responses[strconv.Itoa(status)] = ok
		}
		if r.Cached {
			responses["304"] = map[string]any{"description": "Not Modified: the answer whose ETag If-None-Match names is still current",
				"headers": map[string]any{"ETag": map[string]any{"$ref": "#/components/headers/ViewETag"}}}
		}
		for _, status := range errs {
			if _, taken := responses[strconv.Itoa(status)]; taken {
				continue
			}
			responses[strconv.Itoa(status)] = map[string]any{"$ref": "#/components/responses/" + errorResponses[status].name}
		}
		op["responses"] = responses
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(r.Method)] = op
	}
	// The server decodes request bodies strictly: an unknown field is 400.
	// Every object schema a request body reaches says so.
	closed := map[string]bool{}
	for _, s := range requestSchemas {
		g.close(s, closed)
	}

	problemContent := map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}
	responses := map[string]any{"Error": map[string]any{"description": problemDescription, "content": problemContent}}
	for status, e := range errorResponses {
		resp := map[string]any{"description": e.description, "content": problemContent}
		if status == http.StatusUnauthorized {
			resp["headers"] = map[string]any{"WWW-Authenticate": map[string]any{"$ref": "#/components/headers/WWW-Authenticate"}}
		}
		responses[e.name] = resp
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "kpiledger",
			"version":     "1",
			"description": "Event-sourced ledger of Thailand's public-sector performance evaluation (การประเมินส่วนราชการ). Errors are application/problem+json.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas":         g.defs,
			"parameters":      commonParams,
			"headers":         responseHeaders,
			"responses":       responses,
			"securitySchemes": s.securitySchemes(), // openapi_security.go
		},
	}
}

// openapi is the parameter's OpenAPI object.
func (p param) openapi(in string) map[string]any {
	out := map[string]any{"name": p.Name, "in": in, "schema": p.Schema}
	if p.Doc != "" {
		out["description"] = p.Doc
	}
	if p.Required {
		out["required"] = true
	}
	if p.AllowEmpty {
		out["allowEmptyValue"] = true
	}
	return out
}

// operationID is a stable name for an operation, e.g. get_v1_units_unit.
func operationID(method, path string) string {
	return strings.ToLower(method) + strings.NewReplacer("/", "_", ":", "", ".", "_").Replace(path)
}

// openapiPath turns /v1/units/:unit into /v1/units/{unit} with parameters.
func openapiPath(p string) (string, []any) {
	var params []any
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if !strings.HasPrefix(part, ":") {
			continue
		}
		name := part[1:]
		parts[i] = "{" + name + "}"
		var schema map[string]any
		switch name {
		case "fy":
			schema = fiscalYearSchema
		case "round":
			schema = map[string]any{"type": "integer", "description": "the round's month (6, 9 or 12)"}
		case "kind":
			schema = unitKindSchema
		case "unit":
			schema = map[string]any{"type": "string", "description": "a province's ISO code such as TH-50, or a registered department's code"}
		default:
			schema = map[string]any{"type": "string"}
		}
		params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": schema})
	}
	return strings.Join(parts, "/"), params
}

// schemaGen derives JSON schemas from Go types, naming structs in
// components/schemas so that shared types appear once.
type schemaGen struct {
	defs  map[string]any
	names map[string]reflect.Type
}

var (
	numberType  = reflect.TypeOf(domain.Number(""))
	timeType    = reflect.TypeOf(time.Time{})
	rawJSONType = reflect.TypeOf(json.RawMessage{})
	hashType    = reflect.TypeOf(tlog.Hash{})
)

// enums are the values of the domain's string types.
var enums = map[reflect.Type][]string{
	reflect.TypeOf(domain.Direction("")): {string(domain.DirectionUp), string(domain.DirectionDown), string(domain.DirectionMilestone)},
	reflect.TypeOf(domain.UnitKind("")):  {string(domain.KindProvince), string(domain.KindDepartment)},
	reflect.TypeOf(domain.Rollup("")):    {string(domain.RollupWeighted), string(domain.RollupComponentMean)},
	reflect.TypeOf(domain.Role("")):      {string(domain.RoleOPDC), string(domain.RoleUnit), string(domain.RoleAuditor), string(domain.RoleSystem)},
	reflect.TypeOf(domain.Status("")): {string(domain.StatusProposed), string(domain.StatusRevisionRequested), string(domain.StatusRevised),
		string(domain.StatusApproved), string(domain.StatusRejected), string(domain.StatusWithdrawn)},
}

func enumSchema(values []string) map[string]any {
	vs := make([]any, len(values))
	for i, v := range values {
		vs[i] = v
	}
	return map[string]any{"type": "string", "enum": vs}
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch t {
	case numberType:
		return map[string]any{"type": "number", "format": "double", "nullable": true, "description": "an exact decimal number (null: absent)"}
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case rawJSONType:
		return map[string]any{"description": "any JSON value"}
	case hashType:
		return map[string]any{"type": "string", "format": "byte", "description": "a SHA-256 hash, base64"}
	}
	if values, ok := enums[t]; ok {
		name := g.name(t)
		if name == "Status" {
			name = "IndicatorStatus" // domain.Status is an indicator's; innovations have their own
		}
		g.defs[name] = enumSchema(values)
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := g.schema(t.Elem())
		if _, isRef := s["$ref"]; isRef {
			return map[string]any{"allOf": []any{s}, "nullable": true}
		}
		s["nullable"] = true
		return s
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32:
		return map[string]any{"type": "integer"}
	case reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		name := g.name(t)
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = map[string]any{} // placeholder against recursion
			g.defs[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// name is a type's component name, within OpenAPI's [a-zA-Z0-9._-]: its
// Go name, capitalised (api's unexported types); a generic type's
// arguments spelled out (Change[[]domain.Band] is ChangeOfBandList); and
// the package prefixed if two packages have a type of that name.
func (g *schemaGen) name(t reflect.Type) string {
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 {
		var b strings.Builder
		b.WriteString(name[:i])
		b.WriteString("Of")
		for _, arg := range strings.Split(name[i+1:len(name)-1], ",") {
			lists := 0
			for strings.HasPrefix(arg, "[]") {
				arg, lists = arg[2:], lists+1
			}
			if j := strings.LastIndexAny(arg, "./"); j >= 0 {
				arg = arg[j+1:]
			}
			for j, r := range arg {
				if j == 0 {
					r = unicode.ToUpper(r)
				}
				if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
					b.WriteRune(r)
				}
			}
			b.WriteString(strings.Repeat("List", lists))
		}
		name = b.String()
	}
	name = strings.ToUpper(name[:1]) + name[1:]
	pkg := t.PkgPath()[strings.LastIndexByte(t.PkgPath(), '/')+1:]
	if other, taken := g.names[name]; taken && other != t {
		name = pkg + "." + name
	}
	g.names[name] = t
	return name
}

// object lists a struct's JSON properties, flattening embedded structs.
// A field is required when it is always encoded (no omitempty, not a
// pointer, not a Number, whose absence is null) unless an embedding field
// names it in an `optional:"a,b"` tag (a request that may leave it out).
// An `enum:"a,b"` tag lists a string field's values.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type, optional []string)
	walk = func(t reflect.Type, optional []string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				more := optional
				if o := f.Tag.Get("optional"); o != "" {
					more = append(slices.Clone(optional), strings.Split(o, ",")...)
				}
				walk(f.Type, more)
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, seen := props[name]; seen {
				continue // a shallower field of the same name wins, as in encoding/json
			}
			if e := f.Tag.Get("enum"); e != "" {
				props[name] = enumSchema(strings.Split(e, ","))
			} else {
				props[name] = g.schema(f.Type)
			}
			if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer && f.Type != numberType && !slices.Contains(optional, name) {
				required = append(required, name)
			}
		}
	}
	walk(t, nil)
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// close sets additionalProperties: false on every object schema reachable
// from s, following references into components.
func (g *schemaGen) close(s any, done map[string]bool) {
	switch v := s.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			if !done[name] {
				done[name] = true
				g.close(g.defs[name], done)
			}
			return
		}
		if _, ok := v["properties"]; ok {
			v["additionalProperties"] = false
		}
		for k, sub := range v {
			if k == "properties" {
				for _, p := range sub.(map[string]any) {
					g.close(p, done)
				}
				continue
			}
			g.close(sub, done)
		}
	case []any:
		for _, sub := range v {
			g.close(sub, done)
		}
	}
}

// problemDescription documents the problem types a client acts on by
// type alone (the README has the same table).
const problemDescription = "An error, as an RFC 9457 problem document. Its `type` is https://kpiledger.opdc.go.th/problems/ followed by a slug a client can act on without reading the detail. " +
	"503 no-quorum: the node could not reach enough of its cluster and refused the write before it reached the log; nothing was appended. " +
	"503 not-confirmed: the write's outcome is unknown; repeat it with the same Idempotency-Key, which stores it at most once. " +
	"503 read-model-behind: the event was appended (see `sequence`) but this node's read models have not applied it yet, or have not reached min_sequence. " +
	"503 not-ready: the node is still rebuilding its read models. " +
	"503 log-unreachable: a read could not reach the event log; the request wrote nothing. " +
	"503 log-missing: the event stream is gone or was replaced under this node; it refuses writes until an operator restores it. " +
	"503 read-only: the node started with no disk space to write; it serves reads only. " +
	"429 rate-limited: this caller has written faster than its allowance; retry after Retry-After seconds. " +
	"408 slow-body: the request body did not arrive in time. " +
	"409 request-in-progress: a request with the same Idempotency-Key is being written; repeat it after Retry-After seconds to get its answer. " +
	"409 concurrent-write: the resource kept changing while the request was decided. " +
	"409 conflict: the ledger's state refuses the command, a decision already made or a limit reached (50 live indicators a unit-year, a component's max_indicators, a series taken that year, a component in use), named in the detail. " +
	"409 stale-version, 400 validation, 404 not-found, 401 unauthenticated, 403 forbidden, 413 too-large, 422 idempotency-key-reused, 428 precondition-required: as their titles say."
