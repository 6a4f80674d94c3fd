package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/domain"
)

// openapi serves the OpenAPI 3 document generated from the route table.
func (s *Server) openapi(c echo.Context) error {
	return c.JSON(http.StatusOK, s.OpenAPI())
}

// OpenAPI builds the document: every route of the table, with request and
// response schemas derived from the Go types the handlers decode and encode.
func (s *Server) OpenAPI() map[string]any {
	g := &schemaGen{defs: map[string]any{}}
	paths := map[string]map[string]any{}
	for _, r := range s.routes {
		path, params := openapiPath(r.Path)
		op := map[string]any{
			"summary":     r.Summary,
			"description": "Who may call it: " + r.Access + ".",
			"operationId": strings.ToLower(r.Method) + strings.NewReplacer("/", "_", ":", "", ".", "_").Replace(r.Path),
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if !r.Public {
			op["security"] = []map[string][]string{{"bearerAuth": {}}}
		}
		if r.Body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(r.Body))}}}
		}
		ok := map[string]any{"description": http.StatusText(r.Status)}
		if r.Out != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(r.Out))}}
		}
		responses := map[string]any{strconv.Itoa(r.Status): ok, "default": map[string]any{"$ref": "#/components/responses/Problem"}}
		op["responses"] = responses
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(r.Method)] = op
	}
	g.defs["Problem"] = g.schema(reflect.TypeOf(Problem{}))
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
			"securitySchemes": map[string]any{"bearerAuth": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
			"responses": map[string]any{"Problem": map[string]any{
				"description": problemDescription,
				"content":     map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}},
			}},
		},
	}
}

// openapiPath turns /v1/units/:unit into /v1/units/{unit} with parameters.
func openapiPath(p string) (string, []map[string]any) {
	var params []map[string]any
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, ":") {
			name := part[1:]
			parts[i] = "{" + name + "}"
			typ := "string"
			if name == "fy" || name == "round" {
				typ = "integer"
			}
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": typ}})
		}
	}
	return strings.Join(parts, "/"), params
}

// schemaGen derives JSON schemas from Go types, naming structs in
// components/schemas so that shared types appear once.
type schemaGen struct{ defs map[string]any }

var (
	numberType  = reflect.TypeOf(domain.Number(""))
	timeType    = reflect.TypeOf(time.Time{})
	rawJSONType = reflect.TypeOf(json.RawMessage{})
)

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch t {
	case numberType:
		return map[string]any{"type": "number", "nullable": true, "description": "an exact decimal number"}
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case rawJSONType:
		return map[string]any{"description": "any JSON value"}
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
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := t.Name()
		if name == "" {
			return g.object(t)
		}
		if pkg := t.PkgPath(); strings.HasSuffix(pkg, "/api") {
			name = "api." + name
		}
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = map[string]any{} // placeholder against recursion
			g.defs[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// object lists a struct's JSON properties, flattening embedded structs.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = g.schema(f.Type)
			if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
				required = append(required, name)
			}
		}
	}
	walk(t)
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// problemDescription documents the problem types a client acts on by
// type alone (the README has the same table).
const problemDescription = "An error, as an RFC 9457 problem document. Its `type` is https://kpiledger.opdc.go.th/problems/ followed by a slug a client can act on without reading the detail. " +
	"503 no-quorum: the node could not reach enough of its cluster and refused the write before it reached the log; nothing was appended. " +
	"503 not-confirmed: the write's outcome is unknown; repeat it with the same Idempotency-Key, which stores it at most once. " +
	"503 read-model-behind: the event was appended (see `sequence`) but this node's read models have not applied it yet, or have not reached min_sequence. " +
	"503 not-ready: the node is still rebuilding its read models. " +
	"503 log-unreachable: a read could not reach the event log; the request wrote nothing. " +
	"409 request-in-progress: a request with the same Idempotency-Key is being written; repeat it after Retry-After seconds to get its answer. " +
	"409 concurrent-write: the resource kept changing while the request was decided. " +
	"409 stale-version, 409 conflict, 400 validation, 404 not-found, 401 unauthenticated, 403 forbidden, 413 too-large, 422 idempotency-key-reused, 428 precondition-required: as their titles say."
