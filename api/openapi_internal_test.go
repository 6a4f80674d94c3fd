package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/opdc/kpiledger/projections"
)

// TestRoutesDeclareWhatHandlersRead reads the package's source: every
// query parameter (c.QueryParam("x")) and request header
// (Header.Get("X")) a route's handler reads, directly or through the
// package's functions it calls, must be declared by its route table entry
// or be one the document adds to every call or command. The exchange
// validator catches an undeclared parameter only when a test sends it;
// this catches it when none does.
func TestRoutesDeclareWhatHandlersRead(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	reads := map[string]map[string]bool{} // function name → "query x" / "header X"
	calls := map[string]map[string]bool{} // function name → functions it calls
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			name := fn.Name.Name
			reads[name], calls[name] = map[string]bool{}, map[string]bool{}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				var callee string
				switch fun := call.Fun.(type) {
				case *ast.Ident:
					callee = fun.Name
				case *ast.SelectorExpr:
					callee = fun.Sel.Name
				}
				calls[name][callee] = true
				if len(call.Args) == 1 {
					if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						switch {
						case callee == "QueryParam":
							reads[name]["query "+v] = true
						case callee == "Get" && isHeaderGet(call):
							reads[name]["header "+v] = true
						}
					}
				}
				return true
			})
		}
	}
	var closure func(name string, seen map[string]bool, out map[string]bool)
	closure = func(name string, seen map[string]bool, out map[string]bool) {
		if seen[name] {
			return
		}
		seen[name] = true
		for r := range reads[name] {
			out[r] = true
		}
		for c := range calls[name] {
			if _, ours := reads[c]; ours {
				closure(c, seen, out)
			}
		}
	}

	s := New(Config{Model: projections.NewModel(), TokenKey: []byte("k")})
	checked := 0
	for _, r := range s.routes {
		handler := runtime.FuncForPC(reflect.ValueOf(r.Handler).Pointer()).Name()
		handler = strings.TrimSuffix(handler[strings.LastIndexByte(handler, '.')+1:], "-fm")
		if _, ok := reads[handler]; !ok {
			t.Errorf("%s %s: handler %s not found in the package's source", r.Method, r.Path, handler)
			continue
		}
		declared := map[string]bool{"query pretty": true}
		if !r.Public {
			declared["query min_sequence"], declared["header X-Min-Sequence"] = true, true
		}
		if r.Command {
			for _, h := range []string{"Idempotency-Key", "X-Occurred-At", "X-Correlation-ID", "If-Match"} {
				declared["header "+h] = true
			}
		}
		if r.Downloads {
			declared["query format"], declared["query sheet"] = true, true
		}
		if r.Cached {
			declared["header If-None-Match"] = true
		}
		for _, q := range r.Query {
			declared["query "+q.Name] = true
		}
		for _, h := range r.Headers {
			declared["header "+h.Name] = true
		}
		read := map[string]bool{}
		closure(handler, map[string]bool{}, read)
		for p := range read {
			checked++
			if !declared[p] {
				t.Errorf("%s %s: its handler reads %s, which its route table entry does not declare", r.Method, r.Path, p)
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d parameter reads found; the source scan has lost its way", checked)
	}
}

// isHeaderGet reports whether call is X.Header.Get(…), a request's header
// (a response's is X.Header().Get).
func isHeaderGet(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.SelectorExpr)
	return ok && x.Sel.Name == "Header"
}
