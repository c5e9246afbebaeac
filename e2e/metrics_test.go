package e2e

import (
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/petitions/petitions/internal/metrics"
)

// scrape reads the admin listener's /metrics as Prometheus does.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus' text format: %v", err)
	}
	return fams
}

// value sums a family's series whose labels include these (a histogram's sample count).
func value(f *dto.MetricFamily, labels ...string) float64 {
	var sum float64
	if f == nil {
		return 0
	}
series:
	for _, s := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			if !slices.ContainsFunc(s.GetLabel(), func(l *dto.LabelPair) bool {
				return l.GetName() == labels[i] && l.GetValue() == labels[i+1]
			}) {
				continue series
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			sum += s.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			sum += s.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			sum += float64(s.GetHistogram().GetSampleCount())
		default:
			sum += s.GetUntyped().GetValue()
		}
	}
	return sum
}

// seriesOf lists the names a scrape shows (a histogram's _bucket, _sum and _count).
func seriesOf(fams map[string]*dto.MetricFamily) map[string]bool {
	out := map[string]bool{}
	for name, f := range fams {
		if f.GetType() == dto.MetricType_HISTOGRAM {
			out[name+"_bucket"], out[name+"_sum"], out[name+"_count"] = true, true, true
		} else {
			out[name] = true
		}
	}
	return out
}

// sometimes are the dashboard's series that exist only once something went wrong (a failed
// task or request, a sticky cache miss, a stuck projection), and the activity task queue's
// schedule-to-start latency, reported only for activities a poller fetched: the SDK hands a
// case's activities to its own worker eagerly when it has a free slot. A short healthy run
// has none of them.
var sometimes = []string{
	"temporal_workflow_task_execution_failed_total", "temporal_activity_execution_failed_total",
	"temporal_request_failure_total", "temporal_sticky_cache_miss_total", "petition_projection_stuck_total",
	"temporal_activity_schedule_to_start_latency_seconds_bucket",
	// Regular activities run only when a local activity keeps failing (an outage) or for the
	// calendar broadcast; a healthy case's work is all local.
	"temporal_activity_execution_latency_seconds_bucket", "temporal_activity_execution_latency_seconds_count",
	"temporal_activity_execution_latency_seconds_sum",
}

// The admin listener serves the app's and the Temporal SDK's metrics after a registration and
// an action, every metric the Grafana dashboard queries, and pprof; the API's port serves
// neither.
func TestMetrics(t *testing.T) {
	admin := stack.Service.AdminAddr()
	if admin == "" {
		t.Fatal("the e2e stack runs without its admin listener")
	}
	if host, _, _ := net.SplitHostPort(admin); host != "127.0.0.1" {
		t.Errorf("admin listener on %s, want loopback", admin)
	}
	// An open case before the first scrape: the case gauges are read from the register at
	// most every 30 s, and this test does not wait for that.
	r := registerCase(t, "default", petitioner(), "metrics: unpaid wages")
	before := scrape(t, admin)

	// A registration and an action; a case on the seconds-scale policy whose reminder sends a
	// notice (a local activity, as the look-ups and projections are).
	act(t, r.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler, "leader": leader}, http.StatusOK)
	fast := registerCase(t, "e2e_fast", petitioner(), "metrics: a reminder goes out")
	waitRegister(t, r.CaseNo, "handling")

	var fams map[string]*dto.MetricFamily
	eventually(t, 30*time.Second, "the notice activity of "+fast.CaseNo+" in the SDK's metrics", func() bool {
		fams = scrape(t, admin)
		notices := func(f map[string]*dto.MetricFamily) float64 {
			return value(f["temporal_local_activity_execution_latency_seconds"], "activity_type", "Notify")
		}
		return notices(fams) > notices(before)
	})
	grew := func(name string, labels ...string) {
		t.Helper()
		if b, a := value(before[name], labels...), value(fams[name], labels...); a <= b {
			t.Errorf("%s%v: %v before, %v after, want more", name, labels, b, a)
		}
	}
	grew("petitions_registrations_total", "outcome", "created")
	grew("petitions_actions_total", "action", "accept", "outcome", "2xx")
	grew("petitions_action_duration_seconds", "action", "accept")
	grew("petitions_http_request_duration_seconds", "route", "/api/v1/petitions", "method", "POST", "outcome", "2xx")
	grew("petitions_projection_lag_seconds")
	if value(fams["petitions_cases_open"]) < 1 || fams["petitions_cases_overdue"] == nil {
		t.Errorf("case gauges: open %v, overdue %v", fams["petitions_cases_open"], fams["petitions_cases_overdue"])
	}
	// The SDK's worker and client metrics, from this process's worker and clients.
	for _, name := range []string{
		"temporal_workflow_task_schedule_to_start_latency_seconds", "temporal_workflow_task_execution_latency_seconds",
		"temporal_local_activity_execution_latency_seconds", "temporal_request_latency_seconds",
	} {
		grew(name)
	}
	if value(fams["temporal_num_pollers"], "poller_type", "workflow_task") < 1 || value(fams["temporal_sticky_cache_size"]) < 1 ||
		value(fams["temporal_worker_task_slots_available"]) < 1 {
		t.Errorf("pollers %v, sticky cache %v, free slots %v", value(fams["temporal_num_pollers"]),
			value(fams["temporal_sticky_cache_size"]), value(fams["temporal_worker_task_slots_available"]))
	}

	// Every metric the dashboard queries is here, but those that only some runs make.
	names, err := metrics.DashboardMetrics("../deploy/grafana/petitions.json")
	if err != nil {
		t.Fatal(err)
	}
	have := seriesOf(fams)
	for _, n := range names {
		if !have[n] && !slices.Contains(sometimes, n) {
			t.Errorf("the dashboard queries %s, which the service does not export", n)
		}
	}

	// pprof on the admin listener.
	for path, want := range map[string]string{"/debug/pprof/": "goroutine", "/debug/pprof/goroutine?debug=1": "goroutine profile"} {
		code, body := get(t, "http://"+admin+path)
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s on the admin listener: %d %.200q", path, code, body)
		}
	}
	// Neither on the API's port.
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/goroutine"} {
		if code, _ := get(t, baseURL+path); code != http.StatusNotFound {
			t.Errorf("GET %s on the API's port: %d, want 404", path, code)
		}
	}
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
