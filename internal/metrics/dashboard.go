package metrics

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

// The Grafana dashboard (deploy/grafana/petitions.json) is held to the metrics the service
// exports: the tests read every query in it with DashboardQueries and the metric names in
// each with MetricNames, and compare them with what a registry (and, end to end, a running
// service) exposes.

// DashboardQuery is one PromQL expression of a dashboard: a panel's target or a template
// variable's query.
type DashboardQuery struct {
	Where string // "panel <title>" or "variable <name>"
	Expr  string
	// Datasource is the uid the query's panel or variable names ("${datasource}" when it
	// follows the dashboard's data source variable).
	Datasource string
}

type dashboardPanel struct {
	Title      string             `json:"title"`
	Type       string             `json:"type"`
	Datasource *dashboardSource   `json:"datasource"`
	Targets    []dashboardTarget  `json:"targets"`
	Panels     []dashboardPanel   `json:"panels"` // a collapsed row's panels
	ID         int                `json:"id"`
	GridPos    map[string]float64 `json:"gridPos"`
}

type dashboardSource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type dashboardTarget struct {
	Expr       string           `json:"expr"`
	Datasource *dashboardSource `json:"datasource"`
}

// Dashboard is the part of a Grafana dashboard's JSON the checks read.
type Dashboard struct {
	Title      string           `json:"title"`
	UID        string           `json:"uid"`
	Panels     []dashboardPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string           `json:"name"`
			Type       string           `json:"type"`
			Query      json.RawMessage  `json:"query"`
			Datasource *dashboardSource `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

// ParseDashboard reads a dashboard's JSON.
func ParseDashboard(b []byte) (Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("dashboard JSON: %w", err)
	}
	return d, nil
}

// DashboardMetrics reads a dashboard file and returns every metric name its queries select,
// sorted and each once.
func DashboardMetrics(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := ParseDashboard(b)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, q := range d.Queries() {
		for _, n := range MetricNames(q.Expr) {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// PanelIDs lists every panel's id, rows' panels included, in order.
func (d Dashboard) PanelIDs() []int {
	var ids []int
	var walk func([]dashboardPanel)
	walk = func(ps []dashboardPanel) {
		for _, p := range ps {
			ids = append(ids, p.ID)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return ids
}

// Queries lists every PromQL expression of the dashboard: panel targets (rows' panels
// included) and query variables.
func (d Dashboard) Queries() []DashboardQuery {
	var out []DashboardQuery
	var walk func([]dashboardPanel)
	walk = func(ps []dashboardPanel) {
		for _, p := range ps {
			for _, t := range p.Targets {
				src := p.Datasource
				if t.Datasource != nil {
					src = t.Datasource
				}
				q := DashboardQuery{Where: "panel " + p.Title, Expr: t.Expr}
				if src != nil {
					q.Datasource = src.UID
				}
				out = append(out, q)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		// The query is a string or {"query": "…"} depending on Grafana's version.
		var expr string
		if err := json.Unmarshal(v.Query, &expr); err != nil {
			var q struct {
				Query string `json:"query"`
			}
			_ = json.Unmarshal(v.Query, &q)
			expr = q.Query
		}
		q := DashboardQuery{Where: "variable " + v.Name, Expr: expr}
		if v.Datasource != nil {
			q.Datasource = v.Datasource.UID
		}
		out = append(out, q)
	}
	return out
}

var (
	promStrings   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promMatchers  = regexp.MustCompile(`\{[^{}]*\}`)
	promRanges    = regexp.MustCompile(`\[[^\[\]]*\]`)
	promGrouping  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promTokens    = regexp.MustCompile(`[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?[a-zA-Z]*|[a-zA-Z_:][a-zA-Z0-9_:]*(?:\s*\()?`)
	labelValues   = regexp.MustCompile(`^\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,`)
	promOperators = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
		"and", "or", "unless", "atan2", "inf", "nan", "Inf", "NaN"}
)

// MetricNames returns the metric names a PromQL expression (or a Grafana label_values(metric,
// label) query) selects, sorted and each once. It reads the expression's shape, not its
// meaning: string literals, label matchers, ranges and grouping clauses are dropped, and what
// is left that is neither a function call, a keyword nor a number is a metric name.
func MetricNames(expr string) []string {
	if m := labelValues.FindStringSubmatch(expr); m != nil {
		return []string{m[1]}
	}
	if strings.HasPrefix(strings.TrimSpace(expr), "label_values(") {
		return nil // label_values(label): no metric
	}
	e := promStrings.ReplaceAllString(expr, `""`)
	e = promMatchers.ReplaceAllString(e, " ")
	e = promRanges.ReplaceAllString(e, " ")
	for {
		next := promGrouping.ReplaceAllString(e, " ")
		if next == e {
			break
		}
		e = next
	}
	var names []string
	for _, tok := range promTokens.FindAllString(e, -1) {
		switch {
		case tok[0] >= '0' && tok[0] <= '9':
		case strings.HasSuffix(tok, "("): // a function or an aggregation
		case slices.Contains(promOperators, tok):
		default:
			if !slices.Contains(names, tok) {
				names = append(names, tok)
			}
		}
	}
	slices.Sort(names)
	return names
}
