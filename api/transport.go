package api

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// Transport limits (defaults; Config overrides the body rate and timeout).
const (
	// defaultBodyTimeout is the time any request body gets before its
	// size is taken into account: enough for a round trip on a poor link.
	defaultBodyTimeout = 10 * time.Second
	// defaultMinBodyRate is the slowest upload served to the end: 16 KiB/s,
	// so the largest body (1 MiB) has 10 s + 64 s. A client that declares
	// 10,000 bytes and sends nothing is cut off after 10.6 s.
	defaultMinBodyRate = 16 << 10
	// maxHeaderBytes bounds a request's header block (Go's default is
	// 1 MiB; a bearer token and the usual headers need a few KiB).
	maxHeaderBytes = 64 << 10
	// readHeaderTimeout bounds how long a request's headers may take.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes a keep-alive connection nobody uses.
	idleTimeout = 2 * time.Minute
	// headerTail is how many of a connection's most recently read bytes
	// are kept: the current request's header block ends at most one read
	// buffer (4 KiB in net/http) before the end of what was read.
	headerTail = maxHeaderBytes + 8<<10
)

// HTTPServer returns the http.Server to serve the API (and whatever Extra
// mounted) with: header, body and idle deadlines, bounded headers, and the
// connection hook that lets the server see each request's raw header
// block. Serve it on a listener wrapped by Listener.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.e,
		ReadHeaderTimeout: readHeaderTimeout,
		// No ReadTimeout: net/http's background read would hit it while
		// a long answer (an export) is still being written and cancel the
		// request. Bodies get their own deadline (framing), lifted once
		// the body has been read (decode).
		IdleTimeout:    idleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*tapConn); ok {
				return context.WithValue(ctx, tapKey{}, tc)
			}
			return ctx
		},
	}
}

// Listener wraps l so that each connection keeps the tail of what it read,
// for the Content-Length + Transfer-Encoding check (see framing).
func Listener(l net.Listener) net.Listener { return tapListener{l} }

type tapListener struct{ net.Listener }

func (l tapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tapConn{Conn: c}, nil
}

type tapKey struct{}

// tapConn remembers the last headerTail bytes read from the connection.
type tapConn struct {
	net.Conn
	mu   sync.Mutex
	tail []byte
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.tail = append(c.tail, p[:n]...)
		if over := len(c.tail) - headerTail; over > 0 {
			c.tail = append(c.tail[:0], c.tail[over:]...)
		}
		c.mu.Unlock()
	}
	return n, err
}

// sentContentLength reports whether the raw header block of r, as read on
// c, has a Content-Length field. net/http deletes that field when
// Transfer-Encoding is present, so the handler cannot see it otherwise.
// Every occurrence of r's request line in the tail is checked, so a body
// that imitates a request line cannot hide the real header block.
func (c *tapConn) sentContentLength(r *http.Request) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	line := []byte(r.Method + " " + r.RequestURI + " HTTP/")
	buf := c.tail
	for {
		i := bytes.Index(buf, line)
		if i < 0 {
			return false
		}
		block := buf[i:]
		if end := bytes.Index(block, []byte("\r\n\r\n")); end >= 0 {
			block = block[:end+2]
		}
		for _, field := range bytes.Split(block, []byte("\n"))[1:] {
			name, _, ok := bytes.Cut(field, []byte(":"))
			if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Length")) {
				return true
			}
		}
		buf = buf[i+len(line):]
	}
}

var errAmbiguousLength = badRequest("Content-Length", "must not be sent together with Transfer-Encoding (RFC 9112 §6.1): the body's length would be ambiguous")

// framing is the first middleware of every request (Echo Pre): it refuses
// a request that sends both Content-Length and Transfer-Encoding and closes
// its connection (net/http would serve it and keep the connection open for
// a pipelined request, which RFC 9112 §6.1 forbids); refuses at once a body
// declared larger than maxBody; and gives the body a read deadline that
// allows a large upload at the minimum rate but not a stalled one.
func (s *Server) framing(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if len(r.TransferEncoding) > 0 {
			if tc, ok := r.Context().Value(tapKey{}).(*tapConn); ok && tc.sentContentLength(r) {
				c.Response().Header().Set("Connection", "close")
				return errAmbiguousLength
			}
		}
		if r.ContentLength > maxBody {
			c.Response().Header().Set("Connection", "close")
			q := problem(http.StatusRequestEntityTooLarge, "too-large", "Request body too large",
				"the body exceeds the limit of "+strconv.Itoa(maxBody)+" bytes")
			q.Limit = "body_size"
			return q
		}
		if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			expected := r.ContentLength
			if expected < 0 {
				expected = maxBody
			}
			d := s.bodyTimeout + time.Duration(float64(expected)/float64(s.minBodyRate)*float64(time.Second))
			// Not every ResponseWriter supports deadlines (the demo
			// loader's in-process client does not); those need none.
			_ = http.NewResponseController(c.Response().Writer).SetReadDeadline(time.Now().Add(d))
		}
		return next(c)
	}
}

// noStore marks every authenticated API answer, errors and exports
// included, as not to be cached or content-sniffed: they carry one
// caller's view of the ledger.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		return next(c)
	}
}

// Write rate defaults: one write a second per principal on average, in
// bursts of up to 60 — far above what a person entering a unit's
// indicators and reports does, far below what fills a disk.
const (
	defaultWriteRate  = 1.0
	defaultWriteBurst = 60
)

// writeLimiter rate-limits writes per principal.
type writeLimiter struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	lifted  bool
	byActor map[string]*limiterEntry
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

// allow takes one write from the principal's allowance, or says how long
// until one is available.
func (w *writeLimiter) allow(p Principal, now time.Time) (bool, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lifted || w.rate == rate.Inf {
		return true, 0
	}
	key := string(p.Role) + "\x00" + p.Unit + "\x00" + p.Subject
	e := w.byActor[key]
	if e == nil {
		if len(w.byActor) >= 10000 {
			// Forget principals idle long enough to have a full bucket again.
			full := time.Duration(float64(w.burst) / float64(w.rate) * float64(time.Second))
			for k, old := range w.byActor {
				if now.Sub(old.seen) > full {
					delete(w.byActor, k)
				}
			}
		}
		e = &limiterEntry{lim: rate.NewLimiter(w.rate, w.burst)}
		w.byActor[key] = e
	}
	e.seen = now
	res := e.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// LiftWriteLimit turns the per-principal write limit off until the
// returned function is called: for `serve --demo`, whose loader writes a
// few thousand events per principal through the handler before HTTP opens.
func (s *Server) LiftWriteLimit() (restore func()) {
	s.limiter.mu.Lock()
	s.limiter.lifted = true
	s.limiter.mu.Unlock()
	return func() {
		s.limiter.mu.Lock()
		s.limiter.lifted = false
		s.limiter.mu.Unlock()
	}
}

// rateLimitWrites refuses a write beyond the principal's allowance with
// 429 and Retry-After; reads are not limited.
func (s *Server) rateLimitWrites(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !isWrite(c.Request().Method) {
			return next(c)
		}
		if ok, wait := s.limiter.allow(principal(c), s.now()); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			return problem(http.StatusTooManyRequests, "rate-limited", "Too many writes",
				"this caller has written faster than "+strconv.FormatFloat(float64(s.limiter.rate), 'g', -1, 64)+
					" a second for too long; retry after "+strconv.Itoa(secs)+" s (the Retry-After header)")
		}
		return next(c)
	}
}

// isTimeout reports whether err is a network deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
