package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
)

// buildBinary compiles kpiledger once per test run into a temp dir.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "kpiledger-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "kpiledger")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// child is the real binary serving on a random port.
type child struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
}

func startChild(t *testing.T, dataDir string, args ...string) *child {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--data-dir", dataDir, "--http-addr", "127.0.0.1:0", "--checkpoint-every", "0"}, args...)...)
	cmd.Env = append(os.Environ(), "KPILEDGER_TOKEN_KEY=", "KPILEDGER_CHECKPOINT_KEY=")
	stdout, _ := cmd.StdoutPipe()
	c := &child{cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "listening on "); ok {
				urlc <- strings.Fields(rest)[0]
			}
		}
	}()
	select {
	case c.url = <-urlc:
	case <-time.After(60 * time.Second):
		t.Fatalf("the binary did not start:\n%s", c.stderr.String())
	}
	waitReady(t, c.url)
	return c
}

func post(client *http.Client, url, token string, body any, headers ...string) (int, []byte, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", url, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out, nil
}

const crashFramework = `{"fiscal_year": 2565, "unit_kind": "province",
 "components": [{"code": "performance", "name_th": "การประเมินประสิทธิผลการดำเนินงาน", "weight": 100, "min_indicators": 1, "max_indicators": 20}],
 "scheme": {"levels": [{"label": "ขั้นต้น", "score": 50}, {"label": "มาตรฐาน", "score": 75}, {"label": "ขั้นสูง", "score": 100}], "below_first": 0},
 "rollup": "weighted", "bands": [{"label": "ผ่าน", "min": 50}, {"label": "ต้องปรับปรุง", "min": 0}], "rounds": [12]}`

// TestSIGKILLLosesNothingAcknowledged starts the real binary, has several
// writers propose indicators over HTTP, kills the process with SIGKILL in
// the middle, restarts it on the same data directory, and finds every
// write that was answered 2xx — exactly once. Writes whose answer was lost
// are retried with their Idempotency-Key and also land exactly once.
func TestSIGKILLLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary: skipped in -short")
	}
	dataDir := t.TempDir()
	c := startChild(t, dataDir)
	key, err := api.LoadTokenKey(dataDir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	opdc, _ := api.IssueToken(key, api.Principal{Subject: "opdc", Role: domain.RoleOPDC}, time.Hour, time.Now())
	var fw map[string]any
	_ = json.Unmarshal([]byte(crashFramework), &fw)
	if code, body, err := post(http.DefaultClient, c.url+"/v1/frameworks", opdc, fw); err != nil || code != 201 {
		t.Fatalf("framework: %d %s %v", code, body, err)
	}

	// Writers rotate over 40 provinces: a unit-year holds at most
	// domain.MaxIndicatorsPerUnitYear live indicators.
	const writers = 4
	provinces := make([]string, 0, 40)
	for _, p := range domain.Provinces()[:40] {
		provinces = append(provinces, p.Code)
	}
	var (
		mu      sync.Mutex
		acked   = map[string]string{} // idempotency key → indicator id
		unknown []string              // keys whose answer never came
		sent    atomic.Int64
		stop    atomic.Bool
		wg      sync.WaitGroup
	)
	client := &http.Client{Timeout: 5 * time.Second}
	tokens := map[string]string{}
	for _, unit := range provinces {
		tokens[unit], _ = api.IssueToken(key, api.Principal{Subject: "officer@" + unit, Role: domain.RoleUnit, Unit: unit}, time.Hour, time.Now())
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				unit := provinces[(i*writers+w)%len(provinces)]
				tok := tokens[unit]
				k := fmt.Sprintf("w%d-%04d", w, i)
				body := map[string]any{"component": "performance", "title_th": fmt.Sprintf("ตัวชี้วัดที่ %d ของ %s", i, unit),
					"measure": "ร้อยละ", "direction": "up", "weight": 1, "targets": []int{1, 2, 3}}
				sent.Add(1)
				code, out, err := post(client, c.url+"/v1/units/"+unit+"/years/2565/indicators", tok, body, "Idempotency-Key", k)
				mu.Lock()
				if err == nil && code == 201 {
					var v struct{ ID string }
					_ = json.Unmarshal(out, &v)
					acked[k] = v.ID
				} else {
					unknown = append(unknown, k+"|"+unit)
				}
				mu.Unlock()
				if err != nil {
					return // the server is gone
				}
			}
		}()
	}
	// Kill it mid-stream, once a good number of writes were acknowledged.
	for deadline := time.Now().Add(60 * time.Second); ; {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := c.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
	stop.Store(true)
	wg.Wait()
	t.Logf("killed after %d requests: %d acknowledged, %d without an answer", sent.Load(), len(acked), len(unknown))

	c2 := startChild(t, dataDir)
	// Every acknowledged write is there.
	for k, id := range acked {
		res, err := http.Get(c2.url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		req, _ := http.NewRequest("GET", c2.url+"/v1/indicators/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+opdc)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 200 {
			t.Errorf("acknowledged write %s (indicator %s) is lost: %d", k, id, r.StatusCode)
		}
	}
	// Writes without an answer are retried with their key: each lands once.
	for _, ku := range unknown {
		k, unit, _ := strings.Cut(ku, "|")
		tok := tokens[unit]
		i := 0
		fmt.Sscanf(k[strings.Index(k, "-")+1:], "%d", &i)
		body := map[string]any{"component": "performance", "title_th": fmt.Sprintf("ตัวชี้วัดที่ %d ของ %s", i, unit),
			"measure": "ร้อยละ", "direction": "up", "weight": 1, "targets": []int{1, 2, 3}}
		code, out, err := post(http.DefaultClient, c2.url+"/v1/units/"+unit+"/years/2565/indicators", tok, body, "Idempotency-Key", k)
		if err != nil || code != 201 {
			t.Errorf("retry of %s: %d %s %v", k, code, out, err)
		}
	}
	// No event twice: every command id appears once in the log.
	seen := map[string]int{}
	total := 0
	for after := uint64(0); ; {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/events?after=%d&limit=1000", c2.url, after), nil)
		req.Header.Set("Authorization", "Bearer "+opdc)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Events []struct {
				CommandID string `json:"command_id"`
				Type      string `json:"type"`
			} `json:"events"`
			Next uint64 `json:"next"`
			More bool   `json:"more"`
		}
		_ = json.NewDecoder(r.Body).Decode(&page)
		r.Body.Close()
		for _, e := range page.Events {
			if e.Type == "indicator.proposed" {
				seen[e.CommandID]++
				total++
			}
		}
		if !page.More {
			break
		}
		after = page.Next
	}
	for cmd, n := range seen {
		if n != 1 {
			t.Errorf("command %s appended %d times", cmd, n)
		}
	}
	if want := len(acked) + len(unknown); total != want {
		t.Errorf("%d proposals in the log, want %d (acknowledged + retried)", total, want)
	}
}
