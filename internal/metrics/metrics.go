// Package metrics is the service's instrumentation: one Prometheus registry per running
// service (app.Stack) holding the app's own metrics (registrations, actions, action latency,
// the register's projection lag, open and overdue cases) and the Temporal SDK's (worker and
// client: task latencies, pollers, slots, the sticky cache, requests), and the admin listener
// that serves them at /metrics beside net/http/pprof.
//
// The SDK reports through its OpenTelemetry handler (go.temporal.io/sdk/contrib/opentelemetry)
// into an OpenTelemetry meter provider whose only reader is the Prometheus exporter on the same
// registry, so one scrape returns both. Names follow the exporter's Prometheus conventions:
// counters end in _total, the SDK's timers are histograms in seconds
// (temporal_workflow_task_schedule_to_start_latency_seconds_bucket …), gauges keep their name.
//
// Every method of a nil *Metrics does nothing, so code paths and tests without metrics need
// no checks.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// Namespace prefixes the app's own metrics; the SDK's start with temporal_ (and the workflow's
// own counter, petition_projection_stuck_total, comes through the SDK as well).
const Namespace = "petitions"

// Registration outcomes (petitions_registrations_total{outcome}).
const (
	RegistrationCreated      = "created"       // a new case (201)
	RegistrationRetried      = "retried"       // the same Idempotency-Key again: the same case (200)
	RegistrationRepeatLinked = "repeat_linked" // a repeat petition linked to the petitioner's open case (重复信访)
	RegistrationRefused      = "refused"       // a repeat of a terminated matter (409, 不再受理)
	RegistrationRejected     = "rejected"      // any other 4xx: invalid, not allowed, not signed in …
	RegistrationUnconfirmed  = "unconfirmed"   // the case is registered but its workflow did not confirm (5xx with case_no)
	RegistrationError        = "error"         // any other 5xx
)

// Buckets of the SDK's timers and of action latency, in seconds: from a fast workflow task to
// the 20 s an update may wait and the minute a task may queue in a storm.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60}

// Buckets of the projection lag: the register normally trails by milliseconds; an outage of
// PostgreSQL drains in minutes, a case stuck on a refused transition retries after 10 min.
var lagBuckets = []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600}

// Metrics is one service's registry and instruments.
type Metrics struct {
	reg      *prometheus.Registry
	provider *sdkmetric.MeterProvider
	sdk      client.MetricsHandler
	log      *slog.Logger

	registrations  *prometheus.CounterVec
	actions        *prometheus.CounterVec
	actionDuration *prometheus.HistogramVec
	httpDuration   *prometheus.HistogramVec
	projectionLag  prometheus.Histogram
	cases          *caseCollector // WatchCases
}

// New makes a registry with the Go runtime's and the process's collectors, the app's metrics
// and the Temporal SDK's handler (TemporalHandler) on it.
func New(logger *slog.Logger) (*Metrics, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: logger}
	m.registrations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "registrations_total",
		Help: "Registrations answered by the API, by outcome: created, retried, repeat_linked, refused, rejected, unconfirmed, error.",
	}, []string{"outcome"})
	m.actions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "actions_total",
		Help: "Case actions answered by the API (staff and petitioner), by action and outcome (HTTP status class: 2xx, 4xx, 5xx).",
	}, []string{"action", "outcome"})
	m.actionDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "action_duration_seconds",
		Help:    "Time to answer a case action (the workflow update and the register write it waits for), by action.",
		Buckets: latencyBuckets,
	}, []string{"action"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "http_request_duration_seconds",
		Help:    "Time to answer an API request, by method, route pattern and outcome (HTTP status class).",
		Buckets: latencyBuckets,
	}, []string{"method", "route", "outcome"})
	m.projectionLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "projection_lag_seconds",
		Help:    "How long after its event a transition reached the register (RecordTransitions): now minus the event's time.",
		Buckets: lagBuckets,
	})
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.registrations, m.actions, m.actionDuration, m.httpDuration, m.projectionLag,
	} {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	exporter, err := otelprom.New(
		otelprom.WithRegisterer(m.reg),
		// One process, one scope: no otel_scope_* labels on every series, no target_info.
		otelprom.WithoutScopeInfo(),
		otelprom.WithoutTargetInfo(),
	)
	if err != nil {
		return nil, fmt.Errorf("metrics: Prometheus exporter for the Temporal SDK: %w", err)
	}
	m.provider = sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exporter),
		// The SDK's timers are histograms in seconds; OpenTelemetry's default buckets are
		// meant for milliseconds.
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: latencyBuckets}},
		)),
	)
	m.sdk = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: m.provider.Meter("temporal-sdk-go"),
		// Counters are monotonic: Prometheus counters (_total) that rate() works on.
		UseMonotonicCounters: true,
		// The default panics; a metric that cannot be made must not take a worker down.
		OnError: func(err error) { logger.Warn("Temporal SDK metric", "error", err) },
	})
	return m, nil
}

// Registry is where every metric of this service is registered.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// TemporalHandler is the Temporal SDK's metrics handler for client.Options.MetricsHandler:
// the client's and its workers' metrics land on Registry.
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	if m == nil {
		return nil
	}
	return m.sdk
}

// Handler serves the registry in Prometheus' text format (or OpenMetrics when asked).
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:          slogPrinter{m.log},
		ErrorHandling:     promhttp.ContinueOnError, // one failing collector does not hide the rest
		EnableOpenMetrics: true,
		Timeout:           20 * time.Second,
	})
}

// Close flushes and stops the SDK's meter provider. Call it after the Temporal client is closed.
func (m *Metrics) Close(ctx context.Context) error {
	if m == nil || m.provider == nil {
		return nil
	}
	err := m.provider.Shutdown(ctx)
	if errors.Is(err, sdkmetric.ErrReaderShutdown) {
		return nil
	}
	return err
}

// Registration counts one answered registration.
func (m *Metrics) Registration(outcome string) {
	if m == nil {
		return
	}
	m.registrations.WithLabelValues(outcome).Inc()
}

// Action counts one answered case action and observes how long it took.
func (m *Metrics) Action(action string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.actions.WithLabelValues(action, StatusClass(status)).Inc()
	m.actionDuration.WithLabelValues(action).Observe(d.Seconds())
}

// HTTPRequest observes one answered API request; route is the pattern
// (/api/v1/petitions/:no), never the path, so case numbers do not become labels.
func (m *Metrics) HTTPRequest(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.httpDuration.WithLabelValues(method, route, StatusClass(status)).Observe(d.Seconds())
}

// ProjectionLag observes how far behind its event a transition reached the register.
func (m *Metrics) ProjectionLag(d time.Duration) {
	if m == nil {
		return
	}
	if d < 0 {
		d = 0 // clocks of the worker hosts differ slightly
	}
	m.projectionLag.Observe(d.Seconds())
}

// StatusClass is an HTTP status's class: "2xx", "4xx", "5xx".
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return "unknown"
	}
	return strconv.Itoa(status/100) + "xx"
}

// slogPrinter lets promhttp log through slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics: " + fmt.Sprint(v...)) }
