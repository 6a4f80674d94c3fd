package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"time"

	"github.com/labstack/echo/v4"
)

// The pages and the stylesheet are compiled into the binary: the dashboard
// needs no files beside it and no build step.
//
//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// pageNames are the templates that render a whole page; each is parsed with
// the shared frame (base.html) and partials (parts.html).
var pageNames = []string{"error", "signin", "signedin", "signedout", "units", "scorecard", "unit", "series", "compare", "audit"}

// pages holds every page, parsed once at start: the templates are part of
// the binary, so a parse error is a defect any test catches.
var pages = parsePages()

// assetVersion fingerprints each asset, so that pages can link
// /assets/style.css?v=<hash> and browsers may cache it for a long time.
var assetVersion = fingerprintAssets()

var funcs = template.FuncMap{
	"asset":        assetURL,
	"num":          num,
	"signed":       signed,
	"sign":         sign,
	"thaiDateTime": thaiDateTime,
	"iso":          isoUTC,
	"fySpan":       fiscalYearSpan,
	"roleTH":       roleTH,
	"kindTH":       kindTH,
	"statusTH":     statusTH,
	"directionTH":  directionTH,
	"rollupTH":     rollupTH,
	"eventTH":      eventTH,
	"decisionTH":   decisionTH,
	"short":        shortHash,
	"unitPath":     unitPath,
	"yearPath":     yearPath,
	"add":          func(a, b int) int { return a + b },
	"derefInt":     func(p *int) int { return *p },
	"derefStr":     func(p *string) string { return *p },
	"bandClass":    bandClass,
	"onTrackTH":    onTrackTH,
	"metTH":        metTH,
	"matchedByTH":  matchedByTH,
	"bandOf":       bandOf,
	"f1":           f1,
	"plus":         func(a, b float64) float64 { return a + b },
	"minus":        func(a, b float64) float64 { return a - b },
	"rank":         rank,
	"signedInt":    signedInt,
	"signInt":      signInt,
	"moveTH":       moveTH,
}

func parsePages() map[string]*template.Template {
	out := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t := template.New(name).Funcs(funcs)
		out[name] = template.Must(t.ParseFS(templateFS, "templates/base.html", "templates/parts.html", "templates/"+name+".html"))
	}
	return out
}

func fingerprintAssets() map[string]string {
	out := map[string]string{}
	err := fs.WalkDir(assetFS, "assets", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path.Base(p)] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
}

// assetURL links an embedded asset with its fingerprint.
func assetURL(name string) string { return "/assets/" + name + "?v=" + assetVersion[name] }

// serveAsset: GET /assets/{name}. Assets are public (the sign-in form needs
// its stylesheet) and immutable for a given fingerprint.
func serveAsset(c echo.Context) error {
	setSecurityHeaders(c)
	name := c.Param("*")
	b, err := assetFS.ReadFile("assets/" + path.Clean("/" + name)[1:])
	if err != nil || assetVersion[path.Base(name)] == "" {
		return c.String(http.StatusNotFound, "no such asset")
	}
	if c.QueryParam("v") == assetVersion[path.Base(name)] {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
	}
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(b))
	return nil
}
