package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func newTest(t *testing.T) *Metrics {
	t.Helper()
	m, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

// families gathers the registry: every family by name.
func families(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// seriesNames are the names a scrape of these families shows: a histogram's _bucket, _sum and
// _count, everything else its own name.
func seriesNames(fams map[string]*dto.MetricFamily) map[string]bool {
	out := map[string]bool{}
	for name, f := range fams {
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			out[name+"_bucket"], out[name+"_sum"], out[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			out[name], out[name+"_sum"], out[name+"_count"] = true, true, true
		default:
			out[name] = true
		}
	}
	return out
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The app's metrics and the process's are on the registry under the names the dashboard and
// the README use.
func TestAppMetrics(t *testing.T) {
	m := newTest(t)
	m.Registration(RegistrationCreated)
	m.Registration(RegistrationRepeatLinked)
	m.Action("accept", 200, 150*time.Millisecond)
	m.Action("reply", 422, time.Millisecond)
	m.HTTPRequest("POST", "/api/v1/petitions/:no/:action", 200, 150*time.Millisecond)
	m.ProjectionLag(40 * time.Millisecond)
	m.ProjectionLag(-time.Second) // a worker's clock behind: counted as no lag
	fams := families(t, m)
	for _, name := range []string{"petitions_registrations_total", "petitions_actions_total", "petitions_action_duration_seconds",
		"petitions_http_request_duration_seconds", "petitions_projection_lag_seconds", "go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("%s is not exported", name)
		}
	}
	lag := fams["petitions_projection_lag_seconds"].GetMetric()[0].GetHistogram()
	if lag.GetSampleCount() != 2 || lag.GetSampleSum() < 0.039 || lag.GetSampleSum() > 0.041 {
		t.Errorf("projection lag: %d samples, sum %v", lag.GetSampleCount(), lag.GetSampleSum())
	}
	var outcomes []string
	for _, s := range fams["petitions_actions_total"].GetMetric() {
		for _, l := range s.GetLabel() {
			if l.GetName() == "outcome" {
				outcomes = append(outcomes, l.GetValue())
			}
		}
	}
	slices.Sort(outcomes)
	if !slices.Equal(outcomes, []string{"2xx", "4xx"}) {
		t.Errorf("action outcomes %v", outcomes)
	}
	// Nil metrics do nothing.
	var none *Metrics
	none.Registration("created")
	none.Action("accept", 200, time.Second)
	none.ProjectionLag(time.Second)
	if none.TemporalHandler() != nil || none.WatchCases(nil, CaseOptions{}) != nil {
		t.Error("nil metrics")
	}
}

// The Temporal SDK's handler lands on the same registry with Prometheus' conventions:
// counters end in _total, timers are histograms in seconds (with buckets fit for seconds),
// gauges keep their names.
func TestTemporalHandlerNames(t *testing.T) {
	m := newTest(t)
	h := m.TemporalHandler().WithTags(map[string]string{"task_queue": "petitions"})
	h.Counter("temporal_request").Inc(3)
	h.Timer("temporal_workflow_task_schedule_to_start_latency").Record(1500 * time.Millisecond)
	h.Gauge("temporal_num_pollers").Update(8)
	fams := families(t, m)
	c := fams["temporal_request_total"]
	if c == nil || c.GetType() != dto.MetricType_COUNTER || c.GetMetric()[0].GetCounter().GetValue() != 3 {
		t.Errorf("temporal_request_total: %v", c)
	}
	hist := fams["temporal_workflow_task_schedule_to_start_latency_seconds"]
	if hist == nil || hist.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("temporal_workflow_task_schedule_to_start_latency_seconds: %v", hist)
	}
	hm := hist.GetMetric()[0].GetHistogram()
	if hm.GetSampleSum() != 1.5 || len(hm.GetBucket()) != len(latencyBuckets) {
		t.Errorf("schedule-to-start: sum %v, %d buckets (want seconds, %d buckets)", hm.GetSampleSum(), len(hm.GetBucket()), len(latencyBuckets))
	}
	if g := fams["temporal_num_pollers"]; g == nil || g.GetType() != dto.MetricType_GAUGE || g.GetMetric()[0].GetGauge().GetValue() != 8 {
		t.Errorf("temporal_num_pollers: %v", g)
	}
	for _, l := range hist.GetMetric()[0].GetLabel() {
		if strings.HasPrefix(l.GetName(), "otel_") {
			t.Errorf("OpenTelemetry scope label %s on SDK series", l.GetName())
		}
	}
	if fams["target_info"] != nil {
		t.Error("target_info exported")
	}
}

// The admin handler serves the metrics and pprof, and nothing else.
func TestAdminHandler(t *testing.T) {
	m := newTest(t)
	m.Registration(RegistrationCreated)
	srv := httptest.NewServer(AdminHandler(m))
	defer srv.Close()
	for path, want := range map[string]string{
		"/metrics":                       `petitions_registrations_total{outcome="created"} 1`,
		"/debug/pprof/":                  "goroutine",
		"/debug/pprof/goroutine?debug=1": "goroutine profile",
		"/debug/pprof/cmdline":           "",
		"/":                              "/metrics",
	} {
		code, body := get(t, srv.URL+path)
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want 200 with %q:\n%.300s", path, code, want, body)
		}
	}
	if code, _ := get(t, srv.URL+"/api/v1/petitions"); code != http.StatusNotFound {
		t.Errorf("GET /api/v1/petitions on the admin listener: %d", code)
	}
	resp, err := http.Post(srv.URL+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d", resp.StatusCode)
	}
}

// The listener binds at once (a taken port is an error naming the setting), port 0 picks a
// free one, and Close frees it.
func TestListenAdmin(t *testing.T) {
	m := newTest(t)
	a, err := ListenAdmin("127.0.0.1:0", m, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, "http://"+a.Addr()+"/metrics"); code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	if _, err := ListenAdmin(a.Addr(), m, nil, nil); err == nil || !strings.Contains(err.Error(), "PETITIONS_ADMIN_ADDR") {
		t.Errorf("second listener on %s: %v, want an error naming PETITIONS_ADMIN_ADDR", a.Addr(), err)
	}
	addr := a.Addr()
	a.Close()
	b, err := ListenAdmin(addr, m, nil, nil)
	if err != nil {
		t.Fatalf("the port was not freed: %v", err)
	}
	b.Close()
	var none *Admin
	if none.Addr() != "" {
		t.Error("nil admin has an address")
	}
	none.Close()
}

// The case gauges: read from the register on scrape, cached for the TTL (also after a failed
// read, which keeps the last counts and is counted), bounded by the timeout.
func TestCaseCollector(t *testing.T) {
	m := newTest(t)
	var calls atomic.Int32
	var fail atomic.Bool
	var block atomic.Bool
	err := m.WatchCases(func(ctx context.Context) ([]CaseCount, error) {
		calls.Add(1)
		if block.Load() {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		if fail.Load() {
			return nil, errors.New("register down")
		}
		return []CaseCount{{Unit: "", Level: 0, Open: 3}, {Unit: "construction", Level: 2, Open: 2, Overdue: 2}}, nil
	}, CaseOptions{TTL: time.Hour, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	fams := families(t, m)
	open := fams["petitions_cases_open"]
	if open == nil || len(open.GetMetric()) != 2 {
		t.Fatalf("petitions_cases_open: %v", open)
	}
	got := map[string]float64{}
	for _, s := range open.GetMetric() {
		key := ""
		for _, l := range s.GetLabel() {
			key += l.GetName() + "=" + l.GetValue() + " "
		}
		got[key] = s.GetGauge().GetValue()
	}
	if got["level=0 unit=unassigned "] != 3 || got["level=2 unit=construction "] != 2 {
		t.Errorf("open cases %v", got)
	}
	if o := fams["petitions_cases_overdue"]; o == nil || len(o.GetMetric()) != 2 {
		t.Errorf("petitions_cases_overdue: %v", o)
	}
	families(t, m)
	if n := calls.Load(); n != 1 {
		t.Errorf("%d register reads for two scrapes within the TTL, want 1", n)
	}

	// Past the TTL with the register down: the last counts stay, the error is counted, and
	// the register is not asked again before the TTL.
	col := m.cases
	col.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	fail.Store(true)
	fams = families(t, m)
	if len(fams["petitions_cases_open"].GetMetric()) != 2 || fams["petitions_cases_query_errors_total"].GetMetric()[0].GetCounter().GetValue() != 1 {
		t.Errorf("after a failed read: %v %v", fams["petitions_cases_open"], fams["petitions_cases_query_errors_total"])
	}
	families(t, m)
	if n := calls.Load(); n != 2 {
		t.Errorf("%d register reads, want 2 (a failed read waits for the TTL too)", n)
	}
	// A register that does not answer holds a scrape for the timeout only.
	col.now = func() time.Time { return time.Now().Add(4 * time.Hour) }
	block.Store(true)
	start := time.Now()
	families(t, m)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a hanging register held the scrape %s", d)
	}
}
