package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
)

// TestRestartGivesSameJSON: every view answers byte for byte the same
// after a graceful restart, which loads the read models from their
// checkpoint instead of replaying the log.
func TestRestartGivesSameJSON(t *testing.T) {
	dataDir := t.TempDir()
	base, stop := startRun(t, dataDir)
	waitReady(t, base)
	key, err := api.LoadTokenKey(dataDir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	tok := func(role domain.Role, unit string) string {
		s, _ := api.IssueToken(key, api.Principal{Subject: string(role) + unit, Role: role, Unit: unit}, time.Hour, time.Now())
		return s
	}
	opdc, cm := tok(domain.RoleOPDC, ""), tok(domain.RoleUnit, "TH-50")
	var fw map[string]any
	_ = json.Unmarshal([]byte(crashFramework), &fw)
	send := func(method, path, token string, body any, want int, headers ...string) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, out)
		}
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		return m
	}
	send("POST", "/v1/frameworks", opdc, fw, 201)
	series := send("POST", "/v1/units/TH-50/series", cm, map[string]any{"title_th": "รายได้จากการท่องเที่ยว", "measure": "ร้อยละ", "direction": "up",
		"baseline": 10, "start_year": 2565, "end_year": 2567, "targets": map[string]int{"2565": 20, "2566": 30, "2567": 40}}, 201)["id"].(string)
	for i, actual := range []float64{2.5, 1.5, 3.2} {
		body := map[string]any{"component": "performance", "title_th": []string{"ร้อยละของครัวเรือนที่มีน้ำประปา", "จำนวนจุดความร้อน", "รายได้จากการท่องเที่ยว"}[i],
			"measure": "ร้อยละ", "direction": "up", "weight": 1 + i, "targets": []int{1, 2, 3}}
		if i == 2 {
			body["series_id"] = series
		}
		id := send("POST", "/v1/units/TH-50/years/2565/indicators", cm, body, 201)["id"].(string)
		send("POST", "/v1/indicators/"+id+"/review", opdc, map[string]any{"decision": "approve"}, 200, "If-Match", `"1"`)
		send("POST", "/v1/indicators/"+id+"/results", cm, map[string]any{"round": 12, "actual": actual, "obstacles": "ภัยแล้ง"}, 201)
		send("POST", "/v1/indicators/"+id+"/results/12/verification", opdc, map[string]any{"decision": "accept"}, 200, "If-Match", `"3"`)
	}
	send("POST", "/v1/checkpoints", opdc, nil, 201)

	views := []string{
		"/v1/units/TH-50/years/2565/scorecard",
		"/v1/units/TH-50/years/2565/audit",
		"/v1/units/TH-50/trends",
		"/v1/units/TH-50/comparison?from=2564&to=2565",
		"/v1/units/TH-50/years/2565/indicators",
		"/v1/frameworks",
		"/v1/events?limit=1000",
		"/v1/checkpoints",
		"/v1/verify",
	}
	snapshot := func(base string) map[string]string {
		out := map[string]string{}
		for _, v := range views {
			req, _ := http.NewRequest("GET", base+v, nil)
			req.Header.Set("Authorization", "Bearer "+opdc)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", v, res.StatusCode, b)
			}
			out[v] = string(b)
		}
		return out
	}
	before := snapshot(base)
	if !strings.Contains(before["/v1/verify"], `"intact":true`) {
		t.Fatalf("verify before restart: %s", before["/v1/verify"])
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	base2, _, log := startRunLog(t, dataDir)
	waitReady(t, base2)
	if !strings.Contains(log.String(), "read models loaded from checkpoint") {
		t.Errorf("the restart did not load the read models' checkpoint:\n%s", log.String())
	}
	after := snapshot(base2)
	for _, v := range views {
		if before[v] != after[v] {
			t.Errorf("GET %s differs after restart:\nbefore %s\nafter  %s", v, before[v], after[v])
		}
	}
}
