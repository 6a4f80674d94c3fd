package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/opdc/kpiledger/projections"
)

// maxViewCacheBytes bounds the encoded answers kept. A view is a few
// kilobytes: this keeps every unit-year's scorecard of a large ledger, and
// a client that walks through parameters cannot grow it further.
const maxViewCacheBytes = 32 << 20

// viewCache keeps encoded view answers. A view (a scorecard, a unit's
// trends, a comparison) is a pure function of the read model at a sequence
// and of the request's path and query, so an answer encoded once serves
// every GET until the read model applies another event. Most of a view
// GET's time was JSON encoding; a cached answer skips both the fold's read
// and the encoding.
type viewCache struct {
	mu      sync.Mutex
	entries map[string]viewEntry
	bytes   int
}

// viewEntry is one encoded answer and the read model sequence it was built at.
type viewEntry struct {
	seq  uint64
	body []byte
	etag string
}

func newViewCache() *viewCache { return &viewCache{entries: map[string]viewEntry{}} }

// get returns the answer for key if it was built at seq.
func (vc *viewCache) get(key string, seq uint64) (viewEntry, bool) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	e, ok := vc.entries[key]
	return e, ok && e.seq == seq
}

// put keeps an answer, replacing an older one for the key, and drops
// arbitrary others while the cache is over its size.
func (vc *viewCache) put(key string, e viewEntry) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if old, ok := vc.entries[key]; ok {
		if old.seq > e.seq {
			return // a later answer is already there
		}
		vc.bytes -= len(old.body)
	}
	vc.entries[key] = e
	vc.bytes += len(e.body)
	for k, old := range vc.entries {
		if vc.bytes <= maxViewCacheBytes {
			break
		}
		if k != key {
			delete(vc.entries, k)
			vc.bytes -= len(old.body)
		}
	}
}

// view answers a GET whose body is build's value, a pure function of the
// read model and the request's path and query (the handler has already
// authorised the caller). The encoded answer is cached per path, query and
// read model sequence, and carries an ETag that is the hash of its bytes:
// a client that sends it back in If-None-Match gets 304 Not Modified while
// the answer is the same, and the new answer once an event changes it.
func (s *Server) view(c echo.Context, build func(st *projections.State) (any, error)) error {
	if f, err := viewFormat(c); err != nil {
		return err
	} else if f != formatJSON {
		// Spreadsheets are downloads, built afresh and not cached.
		var out any
		s.model.Read(func(st *projections.State) { out, err = build(st) })
		if err != nil {
			return err
		}
		return answerView(c, out)
	}
	c.Response().Header().Add("Vary", echo.HeaderAccept)
	if _, pretty := c.QueryParams()["pretty"]; pretty {
		// Echo indents ?pretty answers; they are for people, not cached.
		var out any
		var err error
		s.model.Read(func(st *projections.State) { out, err = build(st) })
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out)
	}
	key := c.Request().URL.Path + "?" + c.QueryString()
	var (
		e   viewEntry
		hit bool
		out any
		err error
	)
	s.model.Read(func(st *projections.State) {
		if e, hit = s.views.get(key, st.Sequence); !hit {
			e.seq = st.Sequence
			out, err = build(st)
		}
	})
	if err != nil {
		return err
	}
	if !hit {
		// As Echo's c.JSON encodes: json.Encoder, a newline at the end.
		body, err := json.Marshal(out)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		e.body, e.etag = append(body, '\n'), `"`+hex.EncodeToString(sum[:16])+`"`
		s.views.put(key, e)
	}
	c.Response().Header().Set("ETag", e.etag)
	if noneMatch(c.Request().Header.Get("If-None-Match"), e.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.JSONBlob(http.StatusOK, e.body)
}

// noneMatch reports whether an If-None-Match header names the ETag (weak
// comparison, as RFC 9110 asks for If-None-Match) or is "*".
func noneMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
