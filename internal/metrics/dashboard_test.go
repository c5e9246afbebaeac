package metrics

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const dashboardFile = "../../deploy/grafana/petitions.json"

func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (outcome) (rate(petitions_registrations_total{job=~"$job"}[$__rate_interval]))`:                                        {"petitions_registrations_total"},
		`histogram_quantile(0.99, sum by (le, action) (rate(petitions_action_duration_seconds_bucket{job=~"$job", action!="x"}[5m])))`: {"petitions_action_duration_seconds_bucket"},
		`time() - max(petitions_cases_updated_timestamp_seconds)`:                                                                      {"petitions_cases_updated_timestamp_seconds"},
		`sum(rate(a_total[1m])) / (sum(rate(a_total[1m])) + (sum(rate(b_total{x="{y}"}[1m])) or vector(0)))`:                           {"a_total", "b_total"},
		`max by (unit, level) (petitions_cases_overdue) > 0 and on (unit) c offset 5m`:                                                 {"c", "petitions_cases_overdue"},
		`label_values(petitions_cases_query_errors_total, job)`:                                                                        {"petitions_cases_query_errors_total"},
		`label_values(job)`:          nil,
		`up == bool 1e3`:             {"up"},
		`go_goroutines{job=~"$job"}`: {"go_goroutines"},
	} {
		if got := MetricNames(expr); !slices.Equal(got, want) {
			t.Errorf("MetricNames(%s) = %q, want %q", expr, got, want)
		}
	}
}

// exercised is a registry with every app metric observed at least once, as a running service
// has them after its first registration, action and scrape.
func exercised(t *testing.T) map[string]bool {
	t.Helper()
	m := newTest(t)
	m.Registration(RegistrationCreated)
	m.Action("accept", 200, time.Second)
	m.HTTPRequest("POST", "/api/v1/petitions", 201, time.Second)
	m.ProjectionLag(time.Second)
	if err := m.WatchCases(func(context.Context) ([]CaseCount, error) {
		return []CaseCount{{Unit: "construction", Level: 1, Open: 1, Overdue: 1}}, nil
	}, CaseOptions{}); err != nil {
		t.Fatal(err)
	}
	return seriesNames(families(t, m))
}

// sdkMetricNames are the metric names the Temporal SDK reports (its constants, from the
// module's source), or nil when the module's source cannot be found.
func sdkMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/sdk").Output()
	if err != nil {
		t.Logf("go list -m go.temporal.io/sdk: %v; the SDK's names are checked end to end only (e2e TestMetrics)", err)
		return nil
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "internal", "common", "metrics", "constants.go"))
	if err != nil {
		t.Logf("the SDK's metric names: %v; checked end to end only (e2e TestMetrics)", err)
		return nil
	}
	names := map[string]bool{}
	// TemporalMetricsPrefix + "workflow_completed", TemporalRequest + "_failure"
	consts := map[string]string{"TemporalMetricsPrefix": "temporal_"}
	for _, m := range regexp.MustCompile(`(?m)^\s*(\w+)\s*=\s*(\w+)\s*\+\s*"([a-z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		if base, ok := consts[m[2]]; ok {
			consts[m[1]] = base + m[3]
			names[base+m[3]] = true
		}
	}
	return names
}

// sdkBase is the SDK's name of a series the Prometheus exporter shows: without the unit and
// type suffixes it appends.
func sdkBase(series string) string {
	for _, suffix := range []string{"_seconds_bucket", "_seconds_sum", "_seconds_count", "_seconds", "_total"} {
		if s, ok := strings.CutSuffix(series, suffix); ok {
			return s
		}
	}
	return series
}

// The dashboard parses, every query follows the data source variable, and every metric it
// queries is one the service exports: the app's and the process's are on a test registry
// exercised here; the Temporal SDK's are among the SDK's own metric names (and appear on a
// running service: e2e TestMetrics); the workflow's own counter is the one it increments.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDashboard(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("dashboard title %q, uid %q", d.Title, d.UID)
	}
	var hasDatasource bool
	for _, v := range d.Templating.List {
		if v.Name == "datasource" && v.Type == "datasource" && strings.Contains(string(v.Query), "prometheus") {
			hasDatasource = true
		}
	}
	if !hasDatasource {
		t.Error("no data source variable (type datasource, query prometheus)")
	}
	ids := d.PanelIDs()
	if len(ids) < 10 {
		t.Errorf("only %d panels", len(ids))
	}
	seen := map[int]bool{}
	for _, id := range ids {
		if id == 0 || seen[id] {
			t.Errorf("panel id %d missing or repeated", id)
		}
		seen[id] = true
	}

	app := exercised(t)
	sdk := sdkMetricNames(t)
	if sdk != nil && (!sdk["temporal_workflow_task_schedule_to_start_latency"] || !sdk["temporal_request_failure"] || len(sdk) < 40) {
		t.Fatalf("the SDK's metric names were not read right: %d names", len(sdk))
	}
	workflowSrc := ""
	if files, _ := filepath.Glob("../../workflows/*.go"); len(files) > 0 {
		for _, f := range files {
			src, _ := os.ReadFile(f)
			workflowSrc += string(src)
		}
	}
	queried := map[string]bool{}
	queries := d.Queries()
	if len(queries) < 20 {
		t.Fatalf("only %d queries", len(queries))
	}
	for _, q := range queries {
		if q.Datasource != "${datasource}" {
			t.Errorf("%s: data source %q, want ${datasource}", q.Where, q.Datasource)
		}
		names := MetricNames(q.Expr)
		if len(names) == 0 {
			t.Errorf("%s: no metric in %q", q.Where, q.Expr)
		}
		if q.Where != "variable job" && !strings.Contains(q.Expr, `job=~"$job"`) {
			t.Errorf("%s: %q does not follow the job variable", q.Where, q.Expr)
		}
		for _, n := range names {
			queried[n] = true
			switch {
			case strings.HasPrefix(n, "petitions_"), strings.HasPrefix(n, "go_"), strings.HasPrefix(n, "process_"):
				if !app[n] {
					t.Errorf("%s queries %s, which the service does not export", q.Where, n)
				}
			case strings.HasPrefix(n, "petition_"): // the workflow's own counters, through the SDK
				if !strings.Contains(workflowSrc, `Counter("`+strings.TrimSuffix(n, "_total")+`")`) || !strings.HasSuffix(n, "_total") {
					t.Errorf("%s queries %s, which no workflow counts", q.Where, n)
				}
			case strings.HasPrefix(n, "temporal_"):
				if sdk != nil && !sdk[sdkBase(n)] {
					t.Errorf("%s queries %s: the Temporal SDK reports no %s", q.Where, n, sdkBase(n))
				}
			default:
				t.Errorf("%s queries %s, which is not petitiond's", q.Where, n)
			}
		}
	}
	// What the issue asks the dashboard to show.
	for _, n := range []string{"petitions_registrations_total", "petitions_actions_total", "petitions_action_duration_seconds_bucket",
		"petitions_projection_lag_seconds_bucket", "petitions_cases_open", "petitions_cases_overdue",
		"temporal_workflow_task_schedule_to_start_latency_seconds_bucket", "temporal_sticky_cache_size",
		"temporal_activity_execution_latency_seconds_bucket", "temporal_num_pollers"} {
		if !queried[n] {
			t.Errorf("the dashboard does not show %s", n)
		}
	}
}

// DashboardMetrics is every metric name the dashboard queries, for the end-to-end check.
func TestDashboardMetricsList(t *testing.T) {
	names, err := DashboardMetrics(dashboardFile)
	if err != nil || len(names) < 20 || !slices.IsSorted(names) {
		t.Fatalf("DashboardMetrics: %d names, %v", len(names), err)
	}
}
