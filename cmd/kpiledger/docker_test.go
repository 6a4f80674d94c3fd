package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events/eventstest"
)

// dockerCluster is docker-compose.yml brought up under a project name of
// its own, with the image, host ports and keys the test chose.
type dockerCluster struct {
	t       *testing.T
	root    string   // the repository, where docker-compose.yml is
	compose []string // docker-compose, or docker compose
	project string
	env     []string
	ports   [3]int
	mu      sync.Mutex
	up      [3]bool // whether the test sends writers to a node
}

// run runs a command with a time limit and fails the test, with its
// output, if it fails or overruns.
func (d *dockerCluster) run(limit time.Duration, name string, args ...string) string {
	d.t.Helper()
	out, err := d.try(limit, name, args...)
	if err != nil {
		d.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func (d *dockerCluster) try(limit time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = d.root
	cmd.Env = append(os.Environ(), d.env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("still running after %s: %w", limit, ctx.Err())
	}
	return strings.TrimSpace(string(out)), err
}

func (d *dockerCluster) composeArgs(args ...string) (string, []string) {
	full := append(append(d.compose[1:], "-f", filepath.Join(d.root, "docker-compose.yml"), "-p", d.project), args...)
	return d.compose[0], full
}

func (d *dockerCluster) dc(limit time.Duration, args ...string) string {
	d.t.Helper()
	name, full := d.composeArgs(args...)
	return d.run(limit, name, full...)
}

func (d *dockerCluster) url(i int) string { return fmt.Sprintf("http://127.0.0.1:%d", d.ports[i]) }

func (d *dockerCluster) setUp(i int, up bool) {
	d.mu.Lock()
	d.up[i] = up
	d.mu.Unlock()
}

// urls are the nodes writers may use now.
func (d *dockerCluster) urls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 3)
	for i := range out {
		if d.up[i] {
			out[i] = d.url(i)
		}
	}
	return out
}

// waitReady polls a node's /readyz from the host until it is green.
func (d *dockerCluster) waitReady(i int, limit time.Duration) {
	d.t.Helper()
	client := &http.Client{Timeout: 3 * time.Second}
	deadline := time.Now().Add(limit)
	for {
		res, err := client.Get(d.url(i) + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("kpi%d (host port %d) not ready after %s (last: %v)\n%s", i+1, d.ports[i], limit, err, d.logs())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (d *dockerCluster) logs() string {
	name, full := d.composeArgs("logs", "--no-color", "--tail=60")
	out, _ := d.try(time.Minute, name, full...)
	return out
}

// container is the id of a service's container.
func (d *dockerCluster) container(service string) string {
	d.t.Helper()
	id := d.dc(time.Minute, "ps", "-q", service)
	if id == "" {
		d.t.Fatalf("no container for %s", service)
	}
	return id
}

// composeCommand finds docker-compose (v1) or the docker compose plugin.
func composeCommand() []string {
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	return nil
}

// TestDockerComposeCluster builds the image with `make image`, brings up
// docker-compose.yml, and runs the cluster scenario across the containers
// over HTTP: writes on every node and reads on the others after the
// sequence; a node stopped during writes and started again; a node cut
// off from the cluster network (docker network disconnect) refusing
// writes while the other two carry on, then reconnected; two nodes
// stopped and started. The nodes converge to the same JSON, and every
// acknowledged write is in the log exactly once.
func TestDockerComposeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and runs docker-compose: skipped in -short")
	}
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("skipping the docker-compose cluster test: no usable Docker engine (`docker info`: %v: %.200s)", err, out)
	}
	compose := composeCommand()
	if compose == nil {
		t.Skip("skipping the docker-compose cluster test: neither docker-compose nor `docker compose` is installed")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("skipping the docker-compose cluster test: make is not installed (the image is built by `make image`)")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	phase := func(format string, args ...any) {
		t.Logf("[%5.1fs] %s", time.Since(began).Seconds(), fmt.Sprintf(format, args...))
	}
	stamp := time.Now().UnixNano()
	image := fmt.Sprintf("kpiledger:test-%d", stamp)
	keys := newClusterKeys(t)
	ports := eventstest.FreePorts(t, 3)
	d := &dockerCluster{t: t, root: root, compose: compose, project: fmt.Sprintf("kpitest%d", stamp),
		ports: [3]int{ports[0], ports[1], ports[2]}, up: [3]bool{true, true, true}}
	d.env = []string{"KPILEDGER_IMAGE=" + image, "KPILEDGER_TOKEN_KEY=" + keys.Token, "KPILEDGER_CHECKPOINT_KEY=" + keys.Checkpoint, "KPILEDGER_CLUSTER_SECRET=" + keys.Secret,
		fmt.Sprintf("KPILEDGER_PORT_1=%d", ports[0]), fmt.Sprintf("KPILEDGER_PORT_2=%d", ports[1]), fmt.Sprintf("KPILEDGER_PORT_3=%d", ports[2])}

	d.run(5*time.Minute, "make", "-C", root, "image", "IMAGE="+image)
	t.Cleanup(func() { _, _ = d.try(time.Minute, "docker", "rmi", "-f", image) })
	phase("built %s with make image", image)

	// Torn down whatever happens, volumes too.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("container logs:\n%s", d.logs())
		}
		name, full := d.composeArgs("down", "-v", "--remove-orphans", "--timeout", "10")
		if out, err := d.try(3*time.Minute, name, full...); err != nil {
			t.Errorf("docker-compose down: %v\n%s", err, out)
		}
	})
	d.dc(3*time.Minute, "up", "-d")
	for i := range 3 {
		d.waitReady(i, 2*time.Minute)
	}
	phase("docker-compose up: kpi1..kpi3 ready on host ports %v", ports)

	a := newLedgerAPI(t, keys.Token)
	acked := map[string]ack{}
	after := func(seq uint64) []string { return []string{"X-Min-Sequence", fmt.Sprint(seq)} }
	seq := a.write(201, "POST", d.url(0)+"/v1/frameworks", a.opdc, provinceFramework(), "setup-fw").sequence()
	seq = a.write(201, "POST", d.url(1)+"/v1/units", a.opdc, map[string]any{"code": "cdd", "kind": "department",
		"name_th": "กรมการพัฒนาชุมชน", "name_en": "Community Development Department"}, "setup-cdd", after(seq)...).sequence()
	seq = a.write(201, "POST", d.url(2)+"/v1/frameworks", a.opdc, departmentFramework(), "setup-fw-department", after(seq)...).sequence()
	r := a.write(201, "POST", d.url(2)+"/v1/units/TH-50/years/2565/indicators", a.unitToken("TH-50"), proposal("setup-th50"), "setup-th50", after(seq)...)
	acked["setup-th50"] = ack{Unit: "TH-50", Sequence: r.sequence()}
	first := ""
	for i := range 3 {
		got := string(a.must(200, "GET", d.url(i)+"/v1/units/TH-50/years/2565/scorecard?min_sequence="+fmt.Sprint(r.sequence()), a.opdc, nil).Body)
		if first == "" {
			first = got
		} else if got != first {
			t.Fatalf("kpi%d's scorecard after min_sequence differs:\n%s\n%s", i+1, got, first)
		}
	}
	phase("writes on kpi1, kpi2 and kpi3, read back on every node after min_sequence")

	var units []string
	for _, p := range domain.Provinces() {
		units = append(units, p.Code)
	}
	units = append([]string{"cdd"}, units...)
	views := clusterViews(units[:6])
	merge := func(w *writers) uint64 {
		got, last := w.finish(t)
		for k, v := range got {
			acked[k] = v
		}
		return last
	}
	converge := func(seq uint64, why string) {
		t.Helper()
		got := make([]map[string]string, 3)
		for i := range 3 {
			got[i] = a.readViews(t, d.url(i), seq, views)
		}
		sameViews(t, []string{"kpi1", "kpi2", "kpi3"}, got)
		phase("%s: %d views and event pages equal byte for byte on all three", why, len(got[0]))
	}

	// kpi3 stops (SIGTERM) in the middle of writes, and starts again on
	// its volume.
	w := startWriters(a, 3, "d-stop", units, d.urls)
	w.waitFor(t, 20, "before stopping kpi3")
	d.setUp(2, false)
	d.dc(time.Minute, "stop", "kpi3")
	n := w.count()
	w.waitFor(t, n+30, "with kpi3 stopped")
	phase("kpi3 stopped: %d writes acknowledged by the other two meanwhile", w.count()-n)
	d.dc(time.Minute, "start", "kpi3")
	d.waitReady(2, 2*time.Minute)
	d.setUp(2, true)
	w.waitFor(t, w.count()+20, "after kpi3 started again")
	converge(merge(w), "kpi3 started again and caught up")

	// kpi3 is cut off from the cluster network; clients still reach it.
	net := d.project + "_cluster"
	kpi3 := d.container("kpi3")
	d.setUp(2, false)
	w = startWriters(a, 2, "d-part", units, d.urls)
	d.run(time.Minute, "docker", "network", "disconnect", net, kpi3)
	refused := map[string]string{}
	unconfirmed := probeNoQuorum(t, a, d.url(2), "d-cut", units[1:21], 3, refused)
	n = w.count()
	w.waitFor(t, n+20, "while kpi3 was cut off")
	phase("kpi3 cut off: it refused %d writes (503 no quorum; %d more unconfirmed), kpi1 and kpi2 took %d", len(refused), len(unconfirmed), w.count()-n)
	d.run(time.Minute, "docker", "network", "connect", "--alias", "kpi3.cluster", net, kpi3)
	d.setUp(2, true)
	w.waitFor(t, w.count()+20, "after kpi3 was reconnected")
	last := merge(w)
	last = max(last, repeatWrites(a, d.url(2), unconfirmed, acked))
	converge(last, "kpi3 reconnected and caught up")

	// Two nodes stop: kpi1 alone refuses writes; they start: writes resume.
	d.setUp(1, false)
	d.setUp(2, false)
	d.dc(2*time.Minute, "stop", "kpi2", "kpi3")
	unconfirmed = probeNoQuorum(t, a, d.url(0), "d-alone", units[1:21], 3, refused)
	phase("kpi2 and kpi3 stopped: kpi1 alone answers writes 503 no quorum")
	d.dc(2*time.Minute, "start", "kpi2", "kpi3")
	d.waitReady(1, 2*time.Minute)
	d.waitReady(2, 2*time.Minute)
	d.setUp(1, true)
	d.setUp(2, true)
	repeatWrites(a, d.url(0), unconfirmed, acked)
	w = startWriters(a, 3, "d-back", units, d.urls)
	w.waitFor(t, 20, "after kpi2 and kpi3 started again")
	last = merge(w)
	for _, a := range acked {
		last = max(last, a.Sequence)
	}
	got := a.readViews(t, d.url(0), last, views)
	converge(last, "kpi2 and kpi3 back")
	log := logEvents(t, got)
	checkExactlyOnce(t, log, acked, refused)
	phase("%d events: %d acknowledged writes each stored once, none of the %d refused writes stored", len(log), len(acked), len(refused))
}
