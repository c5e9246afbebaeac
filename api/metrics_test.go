package api

import (
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/petitions/petitions/internal/metrics"
)

// sample is the value of the series of family name with exactly these labels (a histogram's
// sample count), and whether it exists.
func sample(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			if len(s.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range s.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue series
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return s.GetCounter().GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(s.GetHistogram().GetSampleCount()), true
			default:
				return s.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

// Registrations and actions are counted by outcome, actions timed by action, every request by
// route pattern; labels never carry what a client typed; /metrics is not on the API's port.
func TestMetricsObserveAnswers(t *testing.T) {
	m, err := metrics.New(quietLog)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{
		Policies: testPolicies, Now: nilServer().now, Logger: quietLog,
		Register: offlineRegister{}, Auth: fakeAuth{}, Accounts: fakeAuth{}, Metrics: m,
	})
	steps := []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/api/v1/petitions", "{", http.StatusBadRequest},                     // rejected
		{"POST", "/api/v1/petitions", validPetition(), http.StatusServiceUnavailable}, // error: the register is down
		{"POST", "/api/v1/petitions/2026-000001/accept", map[string]any{}, http.StatusServiceUnavailable},
		{"POST", "/api/v1/petitions/2026-000001/frobnicate-x", map[string]any{}, http.StatusNotFound},
		{"GET", "/api/v1/no/such/route", nil, http.StatusNotFound},
		{"GET", "/metrics", nil, http.StatusNotFound},
		{"GET", "/debug/pprof/", nil, http.StatusNotFound},
	}
	for _, st := range steps {
		if w, _ := do(t, s, st.method, st.path, st.body); w.Code != st.status {
			t.Fatalf("%s %s: %d, want %d", st.method, st.path, w.Code, st.status)
		}
	}
	for _, want := range []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"petitions_registrations_total", map[string]string{"outcome": "rejected"}, 1},
		{"petitions_registrations_total", map[string]string{"outcome": "error"}, 1},
		{"petitions_actions_total", map[string]string{"action": "accept", "outcome": "5xx"}, 1},
		{"petitions_actions_total", map[string]string{"action": "unknown", "outcome": "4xx"}, 1},
		{"petitions_action_duration_seconds", map[string]string{"action": "accept"}, 1},
		{"petitions_http_request_duration_seconds", map[string]string{"method": "POST", "route": "/api/v1/petitions", "outcome": "4xx"}, 1},
		{"petitions_http_request_duration_seconds", map[string]string{"method": "POST", "route": "/api/v1/petitions/:no/:action", "outcome": "5xx"}, 1},
		{"petitions_http_request_duration_seconds", map[string]string{"method": "GET", "route": "unmatched", "outcome": "4xx"}, 3},
	} {
		if got, ok := sample(t, m, want.name, want.labels); !ok || got != want.value {
			t.Errorf("%s%v = %v (present %t), want %v", want.name, want.labels, got, ok, want.value)
		}
	}
	if _, ok := sample(t, m, "petitions_actions_total", map[string]string{"action": "frobnicate-x", "outcome": "4xx"}); ok {
		t.Error("an unknown action became a label value")
	}
}

func TestRegistrationOutcome(t *testing.T) {
	for _, c := range []struct {
		named  string
		status int
		want   string
	}{
		{"", 201, "created"}, {"", 200, "retried"}, {"repeat_linked", 200, "repeat_linked"},
		{"refused", 409, "refused"}, {"", 422, "rejected"}, {"", 401, "rejected"},
		{"unconfirmed", 504, "unconfirmed"}, {"", 503, "error"},
	} {
		if got := registrationOutcome(c.named, c.status); got != c.want {
			t.Errorf("registrationOutcome(%q, %d) = %q, want %q", c.named, c.status, got, c.want)
		}
	}
}

// Without metrics the API answers as before.
func TestNoMetrics(t *testing.T) {
	if w, _ := do(t, nilServer(), "GET", "/healthz", nil); w.Code != http.StatusOK {
		t.Fatalf("healthz %d", w.Code)
	}
}
