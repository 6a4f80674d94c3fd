package events_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

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
