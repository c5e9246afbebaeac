package metrics

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// CaseCount is the number of open cases, and of those overdue, of one unit at one escalation
// level (0: not escalated; 1: the unit's head was told, 2: the leader, 3: the superior unit).
type CaseCount struct {
	Unit    string
	Level   int
	Open    int
	Overdue int
}

// CaseCountsFunc asks the register for the open cases' counts.
type CaseCountsFunc func(ctx context.Context) ([]CaseCount, error)

// CaseOptions tune the open-cases collector; zero values take the defaults.
type CaseOptions struct {
	// TTL is how long one answer of the register is served (default 30 s): scrapes from every
	// Prometheus replica and every process do not each query the register.
	TTL time.Duration
	// Timeout bounds one query (default 3 s); a scrape never waits longer for the register.
	Timeout time.Duration
}

// unassigned labels cases that no unit has accepted yet.
const unassigned = "unassigned"

// WatchCases registers the open and overdue case gauges, read from the register on scrape:
// petitions_cases_open{unit,level}, petitions_cases_overdue{unit,level}, with
// petitions_cases_updated_timestamp_seconds (when the counts shown were read) and
// petitions_cases_query_errors_total. The counts are the register's, the same in every
// process: aggregate them across processes with max, not sum.
func (m *Metrics) WatchCases(fetch CaseCountsFunc, o CaseOptions) error {
	if m == nil {
		return nil
	}
	if o.TTL <= 0 {
		o.TTL = 30 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	c := &caseCollector{
		fetch: fetch, opts: o, now: time.Now, log: m.log.Warn,
		open: prometheus.NewDesc(Namespace+"_cases_open",
			"Open cases (not closed, terminated, rejected or withdrawn) in the register, by unit (unassigned before acceptance) and escalation level.",
			[]string{"unit", "level"}, nil),
		overdue: prometheus.NewDesc(Namespace+"_cases_overdue",
			"Open cases past their deadline in the register, by unit and escalation level.",
			[]string{"unit", "level"}, nil),
		updated: prometheus.NewDesc(Namespace+"_cases_updated_timestamp_seconds",
			"When the register was last read for the case gauges (Unix time).", nil, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "cases_query_errors_total",
			Help: "Failed or timed-out reads of the register for the case gauges (the last counts are shown meanwhile).",
		}),
	}
	if err := m.reg.Register(c); err != nil {
		return err
	}
	m.cases = c
	return nil
}

type caseCollector struct {
	fetch CaseCountsFunc
	opts  CaseOptions
	now   func() time.Time
	log   func(msg string, args ...any)

	open, overdue, updated *prometheus.Desc
	errors                 prometheus.Counter

	// mu makes concurrent scrapes share one query.
	mu     sync.Mutex
	asked  time.Time // when the register was last asked (answered or not)
	read   time.Time // when the counts below were read
	counts []CaseCount
}

func (c *caseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.overdue
	ch <- c.updated
	c.errors.Describe(ch)
}

func (c *caseCollector) Collect(ch chan<- prometheus.Metric) {
	counts, read := c.current()
	for _, n := range counts {
		unit, level := n.Unit, strconv.Itoa(n.Level)
		if unit == "" {
			unit = unassigned
		}
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(n.Open), unit, level)
		ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(n.Overdue), unit, level)
	}
	if !read.IsZero() {
		ch <- prometheus.MustNewConstMetric(c.updated, prometheus.GaugeValue, float64(read.UnixNano())/1e9)
	}
	c.errors.Collect(ch)
}

// current returns the cached counts, asking the register again once they are older than the
// TTL. A failed read keeps the last counts and is not retried before the TTL either, so a
// register in trouble is not asked on every scrape.
func (c *caseCollector) current() ([]CaseCount, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.asked.IsZero() && now.Sub(c.asked) < c.opts.TTL {
		return c.counts, c.read
	}
	c.asked = now
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	counts, err := c.fetch(ctx)
	if err != nil {
		c.errors.Inc()
		c.log("metrics: cannot count open cases in the register", "error", err)
		return c.counts, c.read
	}
	c.counts, c.read = counts, now
	return c.counts, c.read
}
