package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
)

// TestClusterAuditorReads: on the in-process three-node cluster holding
// more than 20,000 events, /v1/verify, /v1/events pages and /v1/export
// answer correctly 100 times of 100 with every node up, and again with one
// node stopped. Before reads used direct gets, some failed with "no
// responders" (503 on verify and on the feed, 200 with an empty body on
// export).
func TestClusterAuditorReads(t *testing.T) {
	cl := newCluster(t)
	_, js := eventstest.Connect(t, cl.c.Servers[0])
	start := time.Now()
	eventstest.Fill(t, js, cl.nodes[0].store.Name(), "TH-50", 2563, 20000)
	total := eventstest.Fill(t, js, cl.nodes[0].store.Name(), "TH-57", 2564, 500)
	waitAll(t, cl.nodes, total)
	// An export is cut at the latest checkpoint and signs one when events
	// came after it: sign it now, so that the reads below see one log.
	cl.nodes[0].must(201, "POST", "/v1/checkpoints", cl.nodes[0].opdc(), nil)
	total++
	waitAll(t, cl.nodes, total)
	t.Logf("%d events appended and applied on three nodes in %s", total, time.Since(start).Round(time.Millisecond))

	check := func(h *harness, i int) error {
		switch i % 5 {
		case 0: // the whole log's hash chains
			r := h.do("GET", "/v1/verify", h.auditor(), nil)
			var rep events.LogReport
			if err := json.Unmarshal(r.Body, &rep); r.Status != http.StatusOK || err != nil || !rep.Intact || rep.Events != total {
				return fmt.Errorf("verify: %d %s", r.Status, r.Body)
			}
		case 1, 2: // a page of the feed
			after := uint64(i*211) % total
			r := h.do("GET", fmt.Sprintf("/v1/events?after=%d&limit=1000", after), h.auditor(), nil)
			var page struct {
				Events []events.Envelope
				More   bool
			}
			if err := json.Unmarshal(r.Body, &page); r.Status != http.StatusOK || err != nil {
				return fmt.Errorf("events after %d: %d %.300s", after, r.Status, r.Body)
			}
			want := min(1000, int(total-after))
			if len(page.Events) != want || page.More != (total-after > 1000) {
				return fmt.Errorf("events after %d: %d events (more %v), want %d", after, len(page.Events), page.More, want)
			}
			for k, e := range page.Events {
				if e.Sequence != after+uint64(k)+1 {
					return fmt.Errorf("events after %d: event %d has sequence %d", after, k, e.Sequence)
				}
			}
		default: // a unit-year's signed bundle
			r := h.do("GET", "/v1/export?unit=TH-57&fiscal_year=2564", h.auditor(), nil)
			if r.Status != http.StatusOK {
				return fmt.Errorf("export: %d %s", r.Status, r.Body)
			}
			rep, err := events.VerifyBundle(bytes.NewReader(r.Body), []string{h.signer.VerifierKey()})
			if err != nil || rep.Events != 500 {
				return fmt.Errorf("export of %d bytes: %d events, %v", len(r.Body), rep.Events, err)
			}
		}
		return nil
	}
	run := func(phase string, nodes []*harness) {
		start := time.Now()
		failed := 0
		for i := range 100 {
			if err := check(nodes[i%len(nodes)], i); err != nil {
				failed++
				if failed <= 3 {
					t.Errorf("%s: request %d: %v", phase, i, err)
				}
			}
		}
		if failed > 0 {
			t.Errorf("%s: %d of 100 failed", phase, failed)
		}
		t.Logf("%s: 100 reads in %s", phase, time.Since(start).Round(time.Millisecond))
	}
	run("all nodes up", cl.nodes)
	cl.c.Stop(2)
	// If the stopped node led the stream, the other two elect a leader
	// first (a few seconds, during which reads that ask the stream for
	// its last sequence answer 503 log-unreachable, as writes answer 503).
	waitForStreamLeader(t, cl.nodes[0])
	run("one node stopped", cl.nodes[:2])
}

// waitForStreamLeader waits until the stream answers h's store again.
func waitForStreamLeader(t *testing.T, h *harness) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		_, err := h.store.LastSequence(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stream leader 30 s after a node stopped: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestExportFailingBeforeFirstByte: when the log cannot be read, an export
// is answered 503 log-unreachable as problem+json, not 200 with an empty
// body. (Here direct gets are switched off on the stream, so no replica
// answers them, while stream info still does.)
func TestExportFailingBeforeFirstByte(t *testing.T) {
	store := eventstest.StartServer(t)
	_, js := eventstest.Connect(t, store)
	// Only an administrator may reconfigure the stream (events/embedded.go).
	_, admin := eventstest.ConnectAdmin(t, store)
	st, err := events.Open(t.Context(), js, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := events.LoadSigningKey(t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessOn(t, st, []byte("test-key-0123456789-0123456789-0123456789"), signer)
	h.must(201, "POST", "/v1/frameworks", h.opdc(), fy2563Province)
	h.must(201, "POST", "/v1/units/TH-50/years/2563/indicators", h.officer("TH-50"), indicatorBody("agenda", "ตัวชี้วัด", 1, 1, 2, 3))
	cfg := events.StreamConfig(events.Config{})
	cfg.AllowDirect = false
	if _, err := admin.UpdateStream(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/export?unit=TH-50&fiscal_year=2563", "/v1/export", "/v1/verify", "/v1/events?after=0"} {
		r := h.do("GET", path, h.auditor(), nil)
		var p struct{ Type string }
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Content-Type") != "application/problem+json" ||
			json.Unmarshal(r.Body, &p) != nil || !strings.HasSuffix(p.Type, "/log-unreachable") {
			t.Errorf("GET %s with the log unreadable: %d %s %q", path, r.Status, r.Header.Get("Content-Type"), r.Body)
		}
	}
}
