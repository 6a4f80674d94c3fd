package events_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
	"github.com/opdc/kpiledger/events/eventstest"
)

// ssoOfficer is an officer signed in through an identity provider: the
// actor's issuer and display name travel with the event through the
// cluster, under its hash.
var ssoOfficer = domain.Actor{Subject: "8f1c2a7e-0004", Issuer: "https://sso.example.go.th/realms/opdc", Role: domain.RoleUnit,
	Unit: "TH-57", Name: "มาลี เชียงราย <malee@chiangrai.go.th>"}

// actorOf alternates a local-token officer and an SSO one.
func actorOf(i int) domain.Actor {
	if i%2 == 1 {
		return ssoOfficer
	}
	return officer
}

// TestClusterReplicasThree runs the store on a three-node JetStream cluster
// in this process: conflicts on a replicated stream are still conflicts
// (JetStream may answer 10164 instead of 10071), and with the stream leader
// shut down mid-run every acknowledged event stays readable from the other
// two nodes, exactly once.
func TestClusterReplicasThree(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster: skipped in -short")
	}
	c := eventstest.StartCluster(t, 3)
	_, js := eventstest.Connect(t, c.Servers...)
	st := eventstest.OpenStore(t, js)

	t.Run("conflicts", func(t *testing.T) { concurrentSameVersion(t, st, 20) })

	ctx := context.Background()
	acked := map[string]uint64{} // command id → sequence
	const total = 60
	stopped := -1
	for i := range total {
		if i == total/3 {
			for n, s := range c.Servers {
				if s.JetStreamIsStreamLeader("$G", st.Name()) {
					stopped = n
				}
			}
			if stopped < 0 {
				t.Fatal("no stream leader found")
			}
			c.Stop(stopped)
		}
		agg := indicator("TH-57", 2565, fmt.Sprintf("ind-%03d", i))
		cmd := fmt.Sprintf("cmd-%03d", i)
		// A client retries an unanswered command with the same id until the
		// cluster elects a new leader; JetStream stores it once.
		deadline := time.Now().Add(30 * time.Second)
		for {
			retry := *agg
			actx, cancel := context.WithTimeout(ctx, 2*time.Second)
			env, err := events.NewEnvelope(proposal(agg.ID), retry)
			if err != nil {
				t.Fatal(err)
			}
			env.Actor, env.CommandID = actorOf(i), cmd
			res, err := st.Append(actx, env, retry.LastSeq)
			cancel()
			if err == nil {
				acked[cmd] = res.Sequence
				break
			}
			if !errors.Is(err, events.ErrUnavailable) || time.Now().After(deadline) {
				t.Fatalf("append %s: %v", cmd, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if len(acked) != total {
		t.Fatalf("%d acknowledged, want %d", len(acked), total)
	}

	// Read everything back from the surviving nodes.
	_, js2 := eventstest.Connect(t, c.Running()...)
	st2 := eventstest.OpenStore(t, js2)
	seen := map[string]int{}
	err := st2.Read(ctx, events.ReadOptions{Filters: []string{events.UnitYearFilter("TH-57", 2565)}}, func(e *events.Envelope) error {
		seen[e.CommandID]++
		var i int
		if _, err := fmt.Sscanf(e.CommandID, "cmd-%d", &i); err == nil && e.Actor != actorOf(i) {
			t.Errorf("%s read back with actor %+v, appended with %+v", e.CommandID, e.Actor, actorOf(i))
		}
		if err := e.CheckHash(); err != nil {
			t.Error(err)
		}
		if want, ok := acked[e.CommandID]; ok && want != e.Sequence {
			t.Errorf("%s acknowledged at %d but stored at %d", e.CommandID, want, e.Sequence)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for cmd := range acked {
		if seen[cmd] != 1 {
			t.Errorf("acknowledged %s found %d times", cmd, seen[cmd])
		}
	}
	if len(seen) != total {
		t.Errorf("stream holds %d commands, want %d", len(seen), total)
	}
	t.Logf("stopped node n%d (the stream leader) after %d appends; all %d acknowledged events read back once", stopped+1, total/3, total)
}

// TestClusterReadsAtScale reads a three-node cluster's log of 6,600
// events (api's TestClusterAuditorReads reads one of 20,500 through the
// HTTP endpoints) a hundred times through each kind of read the auditor
// endpoints make (the whole log up to a sequence, one unit-year's
// filtered history, a page after a sequence), first with every node up and
// then with one stopped: every read gives exactly the events stored.
func TestClusterReadsAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster: skipped in -short")
	}
	c := eventstest.StartCluster(t, 3)
	stores := make([]*events.Store, 3)
	var fillJS = func() {}
	for i, s := range c.Servers {
		_, js := eventstest.Connect(t, s)
		stores[i] = eventstest.OpenStore(t, js)
		if i == 0 {
			fillJS = func() {
				eventstest.Fill(t, js, stores[0].Name(), "TH-50", 2563, 6000)
				eventstest.Fill(t, js, stores[0].Name(), "TH-57", 2564, 600)
			}
		}
	}
	start := time.Now()
	fillJS()
	const total, narrow = 6600, 600
	t.Logf("appended %d events in %s", total, time.Since(start).Round(time.Millisecond))
	ctx := context.Background()

	read := func(st *events.Store, i int) error {
		var (
			got  int
			prev uint64
		)
		check := func(e *events.Envelope) error {
			if e.Sequence <= prev {
				return fmt.Errorf("sequence %d after %d", e.Sequence, prev)
			}
			prev = e.Sequence
			got++
			return nil
		}
		var (
			o    events.ReadOptions
			want int
		)
		switch {
		case i%10 == 0: // /v1/verify: the whole log up to its last sequence
			o, want = events.ReadOptions{UpTo: total}, total
		case i%2 == 1: // /v1/export of one unit-year
			o, want = events.ReadOptions{Filters: []string{events.FrameworkSubject(2564, "province"), events.UnitYearFilter("TH-57", 2564)}, UpTo: total}, narrow
		default: // /v1/events?after=&limit=1000
			after := uint64(i*137) % total
			o, want = events.ReadOptions{After: after, Limit: 1000}, min(1000, total-int(after))
			prev = after
		}
		if err := st.Read(ctx, o, check); err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("read %+v gave %d events, want %d", o, got, want)
		}
		return nil
	}
	run := func(phase string, live []*events.Store) {
		failed := 0
		start := time.Now()
		var took [3]time.Duration
		for i := range 100 {
			t0 := time.Now()
			err := read(live[i%len(live)], i)
			kind := 2
			switch {
			case i%10 == 0:
				kind = 0
			case i%2 == 1:
				kind = 1
			}
			took[kind] += time.Since(t0)
			if err != nil {
				failed++
				if failed <= 3 {
					t.Errorf("%s: read %d: %v", phase, i, err)
				}
			}
		}
		if failed > 0 {
			t.Errorf("%s: %d of 100 reads failed", phase, failed)
		}
		t.Logf("%s: 100 reads in %s (whole log %s, unit-year %s, pages %s)", phase, time.Since(start).Round(time.Millisecond),
			took[0].Round(time.Millisecond), took[1].Round(time.Millisecond), took[2].Round(time.Millisecond))
	}
	run("all nodes up", stores)
	c.Stop(2)
	run("one node stopped", stores[:2])
}

// TestSubscribeCatchesUpWithoutConsumer subscribes, on a three-node
// cluster, behind a backlog (a node restarting from its snapshot): the
// backlog is delivered in order with the count still pending, and no
// consumer exists until the live tail is needed. The consumer created up
// front used to make a restarted node wait about 10 s now and then before
// its first batch: its first pull request could find no responders.
func TestSubscribeCatchesUpWithoutConsumer(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster: skipped in -short")
	}
	c := eventstest.StartCluster(t, 3)
	_, js := eventstest.Connect(t, c.Servers[1])
	st := eventstest.OpenStore(t, js)
	const total, after = 3000, 500
	eventstest.Fill(t, js, st.Name(), "TH-50", 2563, total)
	ctx := context.Background()
	sub, err := st.Subscribe(ctx, after)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Stop()
	stream, err := js.Stream(ctx, st.Name())
	if err != nil {
		t.Fatal(err)
	}
	for want := uint64(after + 1); want <= total; want++ {
		e, pending, err := sub.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.Sequence != want || pending != total-want {
			t.Fatalf("got sequence %d with %d pending, want %d with %d", e.Sequence, pending, want, total-want)
		}
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Consumers != 0 {
		t.Fatalf("%d consumers while catching up, want none", info.State.Consumers)
	}
	// The live tail: an event appended now arrives.
	agg := indicator("TH-57", 2565, "ind-live")
	if _, err := appendNext(t, st, agg, proposal("ind-live"), ""); err != nil {
		t.Fatal(err)
	}
	e, pending, err := sub.Next()
	if err != nil {
		t.Fatal(err)
	}
	if e.Sequence != total+1 || e.AggregateID != "ind-live" || pending != 0 {
		t.Fatalf("live event: sequence %d id %s pending %d", e.Sequence, e.AggregateID, pending)
	}
}

// TestClusterGetRightAfterAppend: an event read by its sequence right
// after the leader acknowledged it, through a connection to a follower.
// A direct get is answered by the nearest current replica, and a follower
// that has not applied the event yet said "message not found" for an
// event the log holds; the API answered a retried request 503 that way
// (its duplicate's event, just stored through another node). Get asks the
// stream's leader before saying an event is not there.
func TestClusterGetRightAfterAppend(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster: skipped in -short")
	}
	c := eventstest.StartCluster(t, 3)
	_, js := eventstest.Connect(t, c.Servers...)
	st := eventstest.OpenStore(t, js)
	ctx := context.Background()
	var stores []*events.Store
	for _, s := range c.Servers {
		if !s.JetStreamIsStreamLeader("$G", st.Name()) {
			_, fjs := eventstest.Connect(t, s)
			stores = append(stores, eventstest.OpenStore(t, fjs))
		}
	}
	// Eight writers at once keep the followers busy, so that one of them
	// often trails the leader's acknowledgement.
	const writers, each = 8, 60
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				k := g*each + i
				agg := indicator("TH-10", 2566, fmt.Sprintf("get-%04d", k))
				env, err := events.NewEnvelope(proposal(agg.ID), *agg)
				if err != nil {
					errs <- err
					return
				}
				env.Actor, env.CommandID = actorOf(k), fmt.Sprintf("get-%04d", k)
				res, err := stores[k%len(stores)].Append(ctx, env, 0)
				if err != nil {
					errs <- err
					return
				}
				// Read through the other follower, which may not hold it yet.
				got, err := stores[(k+1)%len(stores)].Get(ctx, res.Sequence)
				if err != nil {
					errs <- fmt.Errorf("sequence %d read right after its append: %w", res.Sequence, err)
					return
				}
				if got.CommandID != env.CommandID {
					errs <- fmt.Errorf("sequence %d holds %s, want %s", res.Sequence, got.CommandID, env.CommandID)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// And what the log does not hold is still "not found".
	if _, err := stores[0].Get(ctx, 1<<40); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("a sequence beyond the log: %v, want ErrMsgNotFound", err)
	}
}
