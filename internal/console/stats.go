package console

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/petitions/petitions/internal/labels"
)

// Statistics: the figures of GET /api/v1/stats for a month (and the last twelve for the trend)
// and the monthly ledger's rows per unit (GET /api/v1/reports/monthly). The API computes every
// figure and rate; the console lays them out as cards, tables and ECharts charts (drawn by
// assets/stats.js from the JSON in the page, since scripts come only from this site).

// statsAnswer is GET /api/v1/stats (register.Stats).
type statsAnswer struct {
	From              time.Time      `json:"from"`
	To                time.Time      `json:"to"`
	Unit              string         `json:"unit"`
	Received          int            `json:"received"`
	ByChannel         map[string]int `json:"by_channel"`
	ByCategory        map[string]int `json:"by_category"`
	Accepted          int            `json:"accepted"`
	Closed            int            `json:"closed"`
	ClosedOnTime      int            `json:"closed_on_time"`
	OnTimeRate        float64        `json:"on_time_rate"`
	OverdueNow        int            `json:"overdue_now"`
	Evaluated         int            `json:"evaluated"`
	Satisfied         int            `json:"satisfied"`
	SatisfactionRate  float64        `json:"satisfaction_rate"`
	ParticipationRate float64        `json:"participation_rate"`
	RepeatPetitions   int            `json:"repeat_petitions"`
	GroupPetitions    int            `json:"group_petitions"`
	Answered          int            `json:"answered"`
	routineFigures
	ByTopic []topicFigures `json:"by_topic"`
}

// routineFigures are skip-level and repeat petitions, the bureau's routines and the screening
// reports (register.RoutineFigures), in the figures of a period and in each ledger row.
type routineFigures struct {
	SkipLevel           int     `json:"skip_level"`
	RepeatCases         int     `json:"repeat_cases"`
	RepeatSubmissions   int     `json:"repeat_submissions"`
	JointProposed       int     `json:"joint_proposed"`
	JointApproved       int     `json:"joint_approved"`
	JointDeclined       int     `json:"joint_declined"`
	JointConcluded      int     `json:"joint_concluded"`
	CalledBack          int     `json:"called_back"`
	CallBackRate        float64 `json:"call_back_rate"`
	CallBackReached     int     `json:"call_back_reached"`
	CallBackReachedRate float64 `json:"call_back_reached_rate"`
	EvaluatedByCallBack int     `json:"evaluated_by_call_back"`
	Assigned            int     `json:"assigned"`
	AssignmentsOverdue  int     `json:"assignments_overdue"`
	ScreeningRounds     int     `json:"screening_rounds"`
	ScreeningDue        int     `json:"screening_due"`
	ScreeningOnTime     int     `json:"screening_on_time"`
	ScreeningLate       int     `json:"screening_late"`
	ScreeningZero       int     `json:"screening_zero"`
	ScreeningMissed     int     `json:"screening_missed"`
	ScreeningPending    int     `json:"screening_pending"`
	ScreeningOnTimeRate float64 `json:"screening_on_time_rate"`
}

// topicFigures are one topic's figures (register.TopicFigures).
type topicFigures struct {
	Topic            string  `json:"topic"`
	Category         string  `json:"category"`
	Received         int     `json:"received"`
	Closed           int     `json:"closed"`
	OverdueNow       int     `json:"overdue_now"`
	Evaluated        int     `json:"evaluated"`
	Satisfied        int     `json:"satisfied"`
	SatisfactionRate float64 `json:"satisfaction_rate"`
}

// monthlyRow is one unit's line of the monthly ledger (register.MonthlyRow).
type monthlyRow struct {
	Month             string  `json:"month"`
	Unit              string  `json:"unit"`
	UnitName          string  `json:"unit_name"`
	Received          int     `json:"received"`
	Accepted          int     `json:"accepted"`
	Closed            int     `json:"closed"`
	ClosedOnTime      int     `json:"closed_on_time"`
	OnTimeRate        float64 `json:"on_time_rate"`
	OverdueNow        int     `json:"overdue_now"`
	Satisfied         int     `json:"satisfied"`
	Evaluated         int     `json:"evaluated"`
	Answered          int     `json:"answered"`
	ParticipationRate float64 `json:"participation_rate"`
	SatisfactionRate  float64 `json:"satisfaction_rate"`
	RepeatPetitions   int     `json:"repeat_petitions"`
	routineFigures
}

// Name is the row's unit as a person reads it.
func (m monthlyRow) Name() string {
	if m.UnitName != "" {
		return m.UnitName
	}
	return m.Unit
}

// parseMonth reads YYYY-MM as the first instant of that month in zone; "" is now's month.
func parseMonth(s string, now time.Time, zone *time.Location) (time.Time, bool) {
	n := now.In(zone)
	current := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, zone)
	s = strings.TrimSpace(s)
	if s == "" {
		return current, true
	}
	m, err := time.ParseInLocation("2006-01", s, zone)
	if err != nil || m.Year() < 1000 || m.Year() > 9998 {
		return current, false
	}
	return m, true
}

// monthRange is the stats API's from/to for a month: its first and last day (to includes it).
func monthRange(m time.Time) url.Values {
	return url.Values{"from": {m.Format(time.DateOnly)}, "to": {m.AddDate(0, 1, -1).Format(time.DateOnly)}}
}

// decodeMonthly reads the monthly report's JSON: a list of rows, or an object holding one.
func decodeMonthly(body []byte) ([]monthlyRow, error) {
	var rows []monthlyRow
	if err := json.Unmarshal(body, &rows); err == nil {
		return rows, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, err
	}
	for _, k := range []string{"rows", "units", "report", "ledger"} {
		if raw, ok := obj[k]; ok {
			err := json.Unmarshal(raw, &rows)
			return rows, err
		}
	}
	return []monthlyRow{}, nil
}

type chartItem struct {
	Name  string `json:"name"`
	Value int    `json:"value"`
}

// chartData is what assets/stats.js draws; every label is already in the reader's language.
type chartData struct {
	Text          map[string]string `json:"text"`
	Channel       []chartItem       `json:"channel"`
	Category      []chartItem       `json:"category"`
	Units         []string          `json:"units"`
	OnTime        []*float64        `json:"ontime"` // null: no denominator (nothing closed, evaluated, answered)
	Satisfaction  []*float64        `json:"satisfaction"`
	Participation []*float64        `json:"participation"`
	Overdue       []int             `json:"overdue"`
	Months        []string          `json:"months"`
	Received      []int             `json:"received"`
	Closed        []int             `json:"closed"`
	TrendOnTime   []*float64        `json:"trend_ontime"`
	// Topics: the month's topics by cases received; Screening the units asked to file a
	// screening report and their on-time rates.
	Topics          []chartItem `json:"topics"`
	ScreeningUnits  []string    `json:"screening_units"`
	ScreeningOnTime []*float64  `json:"screening_ontime"`
}

// chartPercent is a rate as a percentage with one decimal, for the charts.
func chartPercent(f float64) float64 { return math.Round(f*1000) / 10 }

// rateOf is a rate for a chart, or nil (a gap) when its denominator is zero.
func rateOf(f float64, denominator int) *float64 {
	if denominator <= 0 {
		return nil
	}
	p := chartPercent(f)
	return &p
}

// trendPoint is one month of the trend.
type trendPoint struct {
	Month string
	Stats *statsAnswer
}

// topicRow is a topic's line, its category in the reader's language.
type topicRow struct {
	topicFigures
	CategoryLabel string
}

// statsView is the page's data.
type statsView struct {
	Month      string
	MonthStart time.Time
	MonthEnd   time.Time
	BadMonth   bool
	Unit       string
	Units      []unit
	Stats      *statsAnswer
	Err        *apiError
	Rows       []monthlyRow
	RowsErr    bool
	Trend      []trendPoint
	TrendErr   bool
	Channels   []chartItem
	Categories []chartItem
	// Topics are the month's topics with their category's label; Screening the ledger's rows
	// of the units asked to file a screening report (矛盾纠纷排查).
	Topics     []topicRow
	Screening  []monthlyRow
	Chart      chartData
	LedgerCSV  string
	LedgerXLSX string
}

func (c *Console) statsPage(w http.ResponseWriter, r *http.Request, v *view) {
	in := r.URL.Query()
	month, ok := parseMonth(in.Get("month"), v.Now, c.cfg.Zone)
	sv := &statsView{Month: month.Format("2006-01"), MonthStart: month, MonthEnd: month.AddDate(0, 1, -1),
		BadMonth: !ok, Unit: strings.TrimSpace(in.Get("unit"))}
	mq := url.Values{"month": {sv.Month}}.Encode()
	sv.LedgerCSV, sv.LedgerXLSX = "/stats/ledger/csv?"+mq, "/stats/ledger/xlsx?"+mq

	// Every call at once: the twelve months of the trend (the last is this month's figures),
	// the ledger's rows and the unit picker.
	sv.Trend = make([]trendPoint, 12)
	errs := make([]*apiError, 12)
	var wg sync.WaitGroup
	for i := range sv.Trend {
		m := month.AddDate(0, i-11, 0)
		sv.Trend[i].Month = m.Format("2006-01")
		wg.Go(func() {
			q := monthRange(m)
			if sv.Unit != "" {
				q.Set("unit", sv.Unit)
			}
			var st statsAnswer
			if err := c.get(r, "/api/v1/stats", q).decode(&st); err != nil {
				if ae, ok := err.(*apiError); ok {
					errs[i] = ae
				} else {
					errs[i] = &apiError{Status: http.StatusBadGateway, Message: err.Error()}
				}
				return
			}
			sv.Trend[i].Stats = &st
		})
	}
	wg.Go(func() {
		res := c.get(r, "/api/v1/reports/monthly", url.Values{"month": {sv.Month}})
		if !res.OK() {
			sv.RowsErr = true
			return
		}
		rows, err := decodeMonthly(res.Body)
		sv.Rows, sv.RowsErr = rows, err != nil
	})
	wg.Go(func() {
		var units struct {
			Units []unit `json:"units"`
		}
		if c.get(r, "/api/v1/units", nil).decode(&units) == nil {
			sv.Units = units.Units
		}
	})
	wg.Wait()

	sv.Stats, sv.Err = sv.Trend[11].Stats, errs[11]
	if sv.Err != nil && sv.Err.Status == http.StatusUnauthorized {
		c.needSignIn(w, r)
		return
	}
	for _, e := range errs[:11] {
		sv.TrendErr = sv.TrendErr || e != nil
	}
	sv.fill(v)
	v.Title, v.Nav, v.Data = v.T("stats.title"), "stats", sv
	status := http.StatusOK
	if sv.Err != nil {
		status = sv.Err.Status
	}
	c.render(w, status, "stats", v)
}

// fill lays the answers out for the tables and the charts.
func (sv *statsView) fill(v *view) {
	ch := &sv.Chart
	ch.Text = map[string]string{}
	for _, k := range []string{"received", "closed", "on_time_rate", "satisfaction", "participation", "overdue_now", "count", "rate", "none",
		"screening_rate"} {
		ch.Text[k] = v.T("stats." + k)
	}
	ch.Topics = []chartItem{}
	if st := sv.Stats; st != nil {
		sv.Channels = labelledCounts(v, labels.KindChannel, st.ByChannel, channelDisplayOrder)
		sv.Categories = labelledCounts(v, labels.KindCategory, st.ByCategory, categoryDisplayOrder)
		for _, t := range st.ByTopic {
			label := v.Label(labels.KindCategory, t.Category)
			sv.Topics = append(sv.Topics, topicRow{topicFigures: t, CategoryLabel: label})
			if t.Received > 0 {
				ch.Topics = append(ch.Topics, chartItem{Name: v.Tf("stats.topic_of", t.Topic, label), Value: t.Received})
			}
		}
	}
	ch.Channel, ch.Category = nonNilItems(sv.Channels), nonNilItems(sv.Categories)
	ch.ScreeningUnits, ch.ScreeningOnTime = []string{}, []*float64{}
	for _, row := range sv.Rows {
		if row.ScreeningRounds > 0 {
			sv.Screening = append(sv.Screening, row)
			ch.ScreeningUnits = append(ch.ScreeningUnits, row.Name())
			ch.ScreeningOnTime = append(ch.ScreeningOnTime, rateOf(row.ScreeningOnTimeRate, row.ScreeningDue))
		}
	}
	ch.Units, ch.OnTime, ch.Satisfaction, ch.Participation, ch.Overdue = []string{}, []*float64{}, []*float64{}, []*float64{}, []int{}
	for _, row := range sv.Rows {
		ch.Units = append(ch.Units, row.Name())
		ch.OnTime = append(ch.OnTime, rateOf(row.OnTimeRate, row.Closed))
		ch.Satisfaction = append(ch.Satisfaction, rateOf(row.SatisfactionRate, row.Evaluated))
		ch.Participation = append(ch.Participation, rateOf(row.ParticipationRate, row.Answered))
		ch.Overdue = append(ch.Overdue, row.OverdueNow)
	}
	for _, p := range sv.Trend {
		ch.Months = append(ch.Months, p.Month)
		if p.Stats == nil {
			ch.Received, ch.Closed, ch.TrendOnTime = append(ch.Received, 0), append(ch.Closed, 0), append(ch.TrendOnTime, nil)
			continue
		}
		ch.Received = append(ch.Received, p.Stats.Received)
		ch.Closed = append(ch.Closed, p.Stats.Closed)
		ch.TrendOnTime = append(ch.TrendOnTime, rateOf(p.Stats.OnTimeRate, p.Stats.Closed))
	}
}

// labelledCounts is a count per code with the codes' labels, in display order (the API's other
// codes after, by name).
func labelledCounts(v *view, kind string, counts map[string]int, order []string) []chartItem {
	codes := make([]string, 0, len(counts))
	for k := range counts {
		codes = append(codes, k)
	}
	sort.Strings(codes)
	rank := func(c string) int {
		for i, o := range order {
			if o == c {
				return i
			}
		}
		return len(order)
	}
	sort.SliceStable(codes, func(i, j int) bool { return rank(codes[i]) < rank(codes[j]) })
	out := make([]chartItem, 0, len(codes))
	for _, c := range codes {
		out = append(out, chartItem{Name: v.Label(kind, c), Value: counts[c]})
	}
	return out
}

func nonNilItems(s []chartItem) []chartItem {
	if s == nil {
		return []chartItem{}
	}
	return s
}

// ledgerDownload passes the monthly ledger (CSV or Excel) through from the API.
func (c *Console) ledgerDownload(w http.ResponseWriter, r *http.Request, v *view) {
	format := r.PathValue("format")
	if format != "csv" && format != "xlsx" {
		c.problem(w, v, &apiError{Status: http.StatusNotFound, Message: "no ledger as " + format})
		return
	}
	q := url.Values{}
	if m := strings.TrimSpace(r.URL.Query().Get("month")); m != "" {
		q.Set("month", m)
	}
	res := c.get(r, "/api/v1/reports/monthly."+format, q)
	if !res.OK() {
		c.problem(w, v, res.err())
		return
	}
	passThrough(w, res)
}
