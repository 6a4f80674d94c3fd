package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
)

// TestProofsAcrossClusterAndRestart: three kpiledger nodes sign
// checkpoints in turn; every node answers the same inclusion and
// consistency proofs, each checking against the signed roots; after a node
// restarts (its tiles reloaded from the replicated bucket, the rest
// replayed from the log) it still proves every earlier size.
func TestProofsAcrossClusterAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("three kpiledger nodes in one process: skipped in -short")
	}
	keys := newClusterKeys(t)
	ports := eventstest.FreePorts(t, 6)
	var routes []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[i]))
	}
	nodes := make([]*clusterNode, 3)
	for i := range nodes {
		name := fmt.Sprintf("kpi%d", i+1)
		n := &clusterNode{name: name, env: keys.getenv, dataDir: t.TempDir(), url: fmt.Sprintf("http://127.0.0.1:%d", ports[3+i])}
		n.args = []string{"--data-dir", n.dataDir, "--name", name, "--http-addr", fmt.Sprintf("127.0.0.1:%d", ports[3+i]),
			"--cluster-name", "kpi-proofs", "--cluster-addr", fmt.Sprintf("127.0.0.1:%d", ports[i]),
			"--routes", strings.Join(routes, ","), "--checkpoint-every", "0"}
		nodes[i] = n
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range nodes {
				if n.stderr != nil {
					t.Logf("%s's log:\n%s", n.name, n.stderr.String())
				}
			}
		}
		stopNodes(t, nodes...)
	})
	began := time.Now()
	startNodes(t, nodes...)
	t.Logf("cluster up after %s", time.Since(began).Round(time.Second))
	a := newLedgerAPI(t, keys.Token)
	signer, err := events.LoadSigningKey("", keys.getenv)
	if err != nil {
		t.Fatal(err)
	}
	var seq uint64
	after := func() []string { return []string{"X-Min-Sequence", fmt.Sprint(seq)} }
	seq = a.write(201, "POST", nodes[0].url+"/v1/frameworks", a.opdc, provinceFramework(), "fw").sequence()
	writes := func(n int, prefix string) {
		for i := range n {
			node := nodes[i%3].base()
			if node == "" { // stopped: the client goes to another node
				node = nodes[0].url
			}
			seq = a.write(201, "POST", node+"/v1/units/TH-50/years/2565/indicators", a.unitToken("TH-50"),
				proposal(fmt.Sprintf("%s-%d", prefix, i)), fmt.Sprintf("%s-%d", prefix, i), after()...).sequence()
		}
	}
	// checkpoint signs one on a node and returns it as the auditor sees it.
	checkpoint := func(n *clusterNode) events.Checkpoint {
		t.Helper()
		r := a.must(201, "POST", n.url+"/v1/checkpoints", a.opdc, nil, after()...)
		seq = r.sequence()
		var v struct {
			Count uint64 `json:"count"`
		}
		_ = json.Unmarshal(r.Body, &v)
		note := a.must(200, "GET", fmt.Sprintf("%s/v1/checkpoints/%d", n.url, v.Count), a.opdc, nil, after()...)
		text, err := events.OpenNote(string(note.Body), signer.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		cp, err := events.ParseCheckpoint(text)
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	writes(8, "a")
	cp1 := checkpoint(nodes[0])
	writes(8, "b")
	cp2 := checkpoint(nodes[1])
	// proves checks that every running node gives the same valid proofs.
	proves := func(t *testing.T, cps ...events.Checkpoint) {
		t.Helper()
		for k, from := range cps {
			for _, to := range cps[k:] {
				var first string
				for _, n := range nodes {
					r := a.must(200, "GET", fmt.Sprintf("%s/v1/proofs/consistency?from=%d&to=%d", n.url, from.Size, to.Size), a.opdc, nil, after()...)
					var p events.ConsistencyProof
					if err := json.Unmarshal(r.Body, &p); err != nil {
						t.Fatal(err)
					}
					if err := events.CheckConsistency(p.Hashes, from, to); err != nil {
						t.Fatalf("%s: consistency %d→%d against the signed roots: %v", n.name, from.Size, to.Size, err)
					}
					if first == "" {
						first = string(r.Body)
					} else if string(r.Body) != first {
						t.Fatalf("%s answers another consistency proof %d→%d", n.name, from.Size, to.Size)
					}
				}
			}
			for range 5 {
				s := 1 + rand.Uint64N(from.Size)
				for _, n := range nodes {
					r := a.must(200, "GET", fmt.Sprintf("%s/v1/proofs/inclusion?sequence=%d&size=%d", n.url, s, from.Size), a.opdc, nil, after()...)
					var p events.InclusionProof
					if err := json.Unmarshal(r.Body, &p); err != nil {
						t.Fatal(err)
					}
					if p.Root != from.Root || p.Checkpoint == "" {
						t.Fatalf("%s: inclusion at %d is against root %v, not the signed %v", n.name, from.Size, p.Root, from.Root)
					}
					if err := p.Check(); err != nil {
						t.Fatalf("%s: inclusion of %d at %d: %v", n.name, s, from.Size, err)
					}
				}
			}
		}
	}
	t.Run("every node", func(t *testing.T) { proves(t, cp1, cp2) })
	t.Logf("proofs agree on three nodes after %s", time.Since(began).Round(time.Second))

	nodes[2].stop(t)
	writes(5, "c")
	startNodes(t, nodes[2])
	t.Logf("kpi3 restarted after %s", time.Since(began).Round(time.Second))
	cp3 := checkpoint(nodes[2])
	t.Run("after a restart", func(t *testing.T) { proves(t, cp1, cp2, cp3) })
}
