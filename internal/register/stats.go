package register

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/petitions/petitions/internal/warning"
)

// Definitions behind the figures (the same for Stats and MonthlyReport), over a period
// [from, to) and, for Stats, optionally one unit. A case counts for its handling unit once
// accepted and for its routed (suggested) unit before (cases.ledger_unit).
//
//   - received: registered in the period; by channel and category likewise.
//   - accepted: accepted in the period. closed: closed in the period in stage closed or
//     terminated (rejections and withdrawals are not closures); closed on time: of those, the
//     reply was not late. On-time rate 按期办结率 = closed on time / closed.
//   - overdue now: a snapshot, not a period figure: open cases whose clock has run out.
//   - answered: replied in the period, or closed in it without a recorded reply. Evaluated,
//     satisfied (满意 + 基本满意), review requested and re-review requested are counted among
//     the answered cases, so each rate has them as denominator: participation 参评率 =
//     evaluated / answered, review rate = review requested / answered, re-review rate =
//     re-review requested / answered; satisfaction 满意率 = satisfied / evaluated.
//   - repeat petitions 重复信访: repeat submissions linked in the period (repeat_linked
//     events), each counting once; the case's repeat_count is their running total. Repeat
//     cases: the cases they were linked to, each once. Repeat submissions: those received
//     (收件, received_at) in the period, whenever linked (repeat_submissions).
//   - group petitions 集体访: received in the period with 5 or more petitioners (group_size,
//     warning.GroupPetitionSize).
//   - warnings 预警: raised in the period on the unit's cases, in all and by rule (warning.go).
//     Skip-level petitions 越级访: the cases whose skip_level warning was raised in the period
//     (a rule is raised once per case), i.e. warnings by rule's skip_level.
//
// The bureau's routines on a case, each figure counting a case once, by the instant of its
// event:
//
//   - joint investigation 联查: proposed — a criterion set on the case in the period, by a
//     supervisor (joint_flagged) or proposed by the workflow with any of its events (details
//     joint_proposed); approved and declined — a leader's decision (joint_decided, details
//     approved); concluded — the team's findings recorded (joint_findings).
//   - assignment 交办: assigned in the period (assigned); overdue — the result report fell
//     overdue in the period (assignment_overdue).
//   - call-backs 回访, among the answered cases (whenever the call-back was recorded, as for
//     evaluations): called back — one or more call-backs; reached — the petitioner reached on
//     one; evaluated by call-back — the evaluation counted came from a call-back
//     (evaluation_source call_back; part of evaluated). Call-back rate 回访率 = called back /
//     answered; reached rate = reached / called back.
//
// Monthly dispute screening 矛盾纠纷排查 (screening.go), per unit asked to file, over the rounds
// of the months that begin in the period (Asia/Shanghai; for a calendar month, its own round):
// on time — a form or a zero report filed by the round's due instant; late — filed after it;
// zero — zero reports (零报告), on time or late; missed — the round closed without a report
// (逾期未报); pending — not filed yet. Due: the rounds whose due instant has passed for the unit
// (all but those pending before it). On-time rate 按时报送率 = on time / due.
//
// By topic: received, closed, overdue now, evaluated, satisfied and the satisfaction rate as
// above, grouped by topic and category instead of by unit. Topics are compared as repeat
// detection compares them (trimmed, case-insensitive: cases.topic_key) and shown as the first
// of their spellings in sort order. Listed: the topics with any of these figures, most received first,
// then most overdue now, then most closed — TopTopics of them in Stats, each unit's first
// TopicsPerUnit in the monthly ledger.
//
// A rate is 0 when its denominator is 0.

// How many topics Stats lists, and each row of the monthly ledger.
const (
	TopTopics     = 20
	TopicsPerUnit = 5
)

// RoutineFigures are the figures of skip-level and repeat petitions, the bureau's routines and
// the screening reports (see the definitions above): in Stats for the period, in each
// MonthlyRow for the unit's month.
type RoutineFigures struct {
	SkipLevel         int `json:"skip_level"` // 越级访
	RepeatCases       int `json:"repeat_cases"`
	RepeatSubmissions int `json:"repeat_submissions"`
	// Joint investigation 联查.
	JointProposed  int `json:"joint_proposed"`
	JointApproved  int `json:"joint_approved"`
	JointDeclined  int `json:"joint_declined"`
	JointConcluded int `json:"joint_concluded"`
	// Call-backs 回访 among the answered cases.
	CalledBack          int     `json:"called_back"`
	CallBackRate        float64 `json:"call_back_rate"` // 回访率 = called back / answered
	CallBackReached     int     `json:"call_back_reached"`
	CallBackReachedRate float64 `json:"call_back_reached_rate"` // reached / called back
	EvaluatedByCallBack int     `json:"evaluated_by_call_back"`
	// Assignment 交办.
	Assigned           int `json:"assigned"`
	AssignmentsOverdue int `json:"assignments_overdue"`
	ScreeningFigures
}

// ScreeningFigures are a unit's (or all units') screening reports over the period's rounds.
type ScreeningFigures struct {
	ScreeningRounds     int     `json:"screening_rounds"` // rounds asked to file in
	ScreeningDue        int     `json:"screening_due"`
	ScreeningOnTime     int     `json:"screening_on_time"`
	ScreeningLate       int     `json:"screening_late"`
	ScreeningZero       int     `json:"screening_zero"`
	ScreeningMissed     int     `json:"screening_missed"`
	ScreeningPending    int     `json:"screening_pending"`
	ScreeningOnTimeRate float64 `json:"screening_on_time_rate"` // 按时报送率 = on time / due
}

// UnitScreening is one unit's screening figures.
type UnitScreening struct {
	Unit string `json:"unit"`
	ScreeningFigures
}

// TopicFigures are the figures of one topic and category.
type TopicFigures struct {
	Topic            string  `json:"topic"`
	Category         string  `json:"category"`
	Received         int     `json:"received"`
	Closed           int     `json:"closed"`
	OverdueNow       int     `json:"overdue_now"`
	Evaluated        int     `json:"evaluated"`
	Satisfied        int     `json:"satisfied"`
	SatisfactionRate float64 `json:"satisfaction_rate"` // 满意率 = satisfied / evaluated
}

// counts are the figures' counts, in one order (the rates follow from them: setRates).
func (r *RoutineFigures) counts() []*int {
	return []*int{&r.SkipLevel, &r.RepeatCases, &r.RepeatSubmissions,
		&r.JointProposed, &r.JointApproved, &r.JointDeclined, &r.JointConcluded,
		&r.CalledBack, &r.CallBackReached, &r.EvaluatedByCallBack, &r.Assigned, &r.AssignmentsOverdue,
		&r.ScreeningRounds, &r.ScreeningDue, &r.ScreeningOnTime, &r.ScreeningLate, &r.ScreeningZero,
		&r.ScreeningMissed, &r.ScreeningPending}
}

func (r *RoutineFigures) add(o RoutineFigures) {
	to, from := r.counts(), o.counts()
	for i := range to {
		*to[i] += *from[i]
	}
}

// setRates derives the rates from the counts; answered is the call-back rate's denominator.
func (r *RoutineFigures) setRates(answered int) {
	r.CallBackRate = rate(r.CalledBack, answered)
	r.CallBackReachedRate = rate(r.CallBackReached, r.CalledBack)
	r.ScreeningFigures.setRate()
}

func (f *ScreeningFigures) setRate() { f.ScreeningOnTimeRate = rate(f.ScreeningOnTime, f.ScreeningDue) }

// unitFigures are one unit's counts over a period.
type unitFigures struct {
	unit                                       string
	received, accepted, closed, closedOnTime   int
	overdueNow, answered, evaluated, satisfied int
	reviewRequested, reReviewRequested, groups int
	repeats                                    int
	warnings                                   int
	warningsByRule                             map[string]int
	routine                                    RoutineFigures // counts only
}

// of returns the figures of unit in figs, added when missing.
func of(figs map[string]*unitFigures, unit string) *unitFigures {
	f := figs[unit]
	if f == nil {
		f = &unitFigures{unit: unit}
		figs[unit] = f
	}
	return f
}

// Conditions on a row of periodCasesSQL, for the figures by unit and by topic alike.
const (
	overdueNowSQL = `overdue AND stage NOT IN ` + finalStagesSQL
	evaluatedSQL  = `answered AND evaluation <> ''`
	satisfiedSQL  = `answered AND evaluation IN ('satisfied', 'basic_satisfied')`
)

// periodCasesSQL are the cases that can count over the period (arguments from, to and unit),
// with whether each was received, closed and answered in it.
const periodCasesSQL = `
	SELECT *,
		registered_at >= @from AND registered_at < @to AS received_in,
		COALESCE(closed_at >= @from AND closed_at < @to AND stage IN ('closed', 'terminated'), false) AS closed_in,
		COALESCE(replied_at >= @from AND replied_at < @to, false)
			OR (replied_at IS NULL AND COALESCE(closed_at >= @from AND closed_at < @to AND stage IN ('closed', 'terminated'), false)) AS answered
	FROM cases
	WHERE (@unit = '' OR ledger_unit = @unit)
		-- Only rows that can count: lets the planner OR together the period indexes instead
		-- of reading the whole register.
		AND (registered_at >= @from AND registered_at < @to
			OR accepted_at >= @from AND accepted_at < @to
			OR replied_at >= @from AND replied_at < @to
			OR closed_at >= @from AND closed_at < @to
			OR overdue)`

// figuresSQL counts the period's cases in one pass, by ledger unit and by topic and category:
// within each ledger unit with per_unit, else over all (unit ""), keeping the first top topics
// of each. Every count of a unit is a topic's too; a topic is listed when one of the figures it
// shows counts. A variable: the group petition size comes from internal/warning.
var figuresSQL = `
SELECT by_topic, unit, topic, category, received, accepted, closed, closed_on_time, overdue_now, answered,
	evaluated, satisfied, review_requested, re_review_requested, groups, called_back, reached, by_call_back
FROM (
	SELECT *, row_number() OVER (PARTITION BY by_topic, unit
		ORDER BY received DESC, overdue_now DESC, closed DESC, topic, category) AS rank
	FROM (
		SELECT GROUPING(topic_key) = 0 AS by_topic, COALESCE(ledger_unit, topic_unit) AS unit,
			CASE WHEN GROUPING(topic_key) = 0 THEN min(btrim(topic)) ELSE '' END AS topic,
			COALESCE(category, '') AS category,
			count(*) FILTER (WHERE received_in) AS received,
			count(*) FILTER (WHERE accepted_at >= @from AND accepted_at < @to) AS accepted,
			count(*) FILTER (WHERE closed_in) AS closed,
			count(*) FILTER (WHERE closed_in AND on_time) AS closed_on_time,
			count(*) FILTER (WHERE ` + overdueNowSQL + `) AS overdue_now,
			count(*) FILTER (WHERE answered) AS answered,
			count(*) FILTER (WHERE ` + evaluatedSQL + `) AS evaluated,
			count(*) FILTER (WHERE ` + satisfiedSQL + `) AS satisfied,
			count(*) FILTER (WHERE answered AND review_requested) AS review_requested,
			count(*) FILTER (WHERE answered AND re_review_requested) AS re_review_requested,
			count(*) FILTER (WHERE received_in AND group_size >= ` + strconv.Itoa(warning.GroupPetitionSize) + `) AS groups,
			count(*) FILTER (WHERE answered AND call_backs > 0) AS called_back,
			count(*) FILTER (WHERE answered AND call_back_reached) AS reached,
			count(*) FILTER (WHERE ` + evaluatedSQL + ` AND evaluation_source = 'call_back') AS by_call_back
		FROM (
			SELECT *, CASE WHEN @per_unit THEN ledger_unit ELSE '' END AS topic_unit
			FROM (` + periodCasesSQL + `
			) p
		) c
		GROUP BY GROUPING SETS ((ledger_unit), (topic_unit, topic_key, category))
		HAVING GROUPING(topic_key) = 1
			OR count(*) FILTER (WHERE received_in OR closed_in OR ` + overdueNowSQL + ` OR ` + evaluatedSQL + `) > 0
	) g
) r
WHERE NOT by_topic OR rank <= @top
ORDER BY by_topic, unit, rank`

// eventFiguresSQL counts by ledger unit the events of the period that repeat petitions and the
// routines are counted from, and the repeat submissions received in it (as the pseudo-event
// 'repeat_submission').
const eventFiguresSQL = `
SELECT c.ledger_unit,
	count(*) FILTER (WHERE e.type = 'repeat_linked'),
	count(DISTINCT e.case_no) FILTER (WHERE e.type = 'repeat_linked'),
	count(*) FILTER (WHERE e.type = 'repeat_submission'),
	count(DISTINCT e.case_no) FILTER (WHERE e.type = 'joint_flagged' OR e.proposed),
	count(DISTINCT e.case_no) FILTER (WHERE e.type = 'joint_decided' AND e.approved),
	count(DISTINCT e.case_no) FILTER (WHERE e.type = 'joint_decided' AND NOT e.approved),
	count(DISTINCT e.case_no) FILTER (WHERE e.type = 'joint_findings'),
	count(DISTINCT e.case_no) FILTER (WHERE e.type = 'assigned'),
	count(DISTINCT e.case_no) FILTER (WHERE e.type = 'assignment_overdue')
FROM (
	SELECT case_no, type, COALESCE(details ? 'joint_proposed', false) AS proposed,
		COALESCE(details -> 'approved' = 'true', false) AS approved
	FROM case_events
	WHERE type IN ('repeat_linked', 'joint_flagged', 'joint_decided', 'joint_findings', 'assigned', 'assignment_overdue')
			AND at >= @from AND at < @to
		-- Any event may carry the workflow's proposal: 0014's partial index finds them.
		OR details ? 'joint_proposed' AND at >= @from AND at < @to
	UNION ALL
	SELECT case_no, 'repeat_submission', false, false
	FROM repeat_submissions
	WHERE received_at >= @from AND received_at < @to
) e JOIN cases c USING (case_no)
WHERE @unit = '' OR c.ledger_unit = @unit
GROUP BY c.ledger_unit`

// screeningFiguresSQL counts the units' reports in the rounds of months first..last.
const screeningFiguresSQL = `
SELECT unit,
	count(*),
	count(*) FILTER (WHERE status <> 'pending' OR overdue),
	count(*) FILTER (WHERE status IN ('filed', 'zero') AND NOT late),
	count(*) FILTER (WHERE status IN ('filed', 'zero') AND late),
	count(*) FILTER (WHERE status = 'zero'),
	count(*) FILTER (WHERE status = 'missed'),
	count(*) FILTER (WHERE status = 'pending')
FROM screening_reports
WHERE month >= @first AND month <= @last AND (@unit = '' OR unit = @unit)
GROUP BY unit`

// screeningMonths are the first and last months ("YYYY-MM") whose first instant in
// Asia/Shanghai lies in [from, to); ok is false when none does.
func screeningMonths(from, to time.Time) (first, last string, ok bool) {
	month := func(t time.Time) time.Time {
		t = t.In(shanghai)
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, shanghai)
	}
	f := month(from)
	if f.Before(from) {
		f = f.AddDate(0, 1, 0)
	}
	l := month(to.Add(-time.Nanosecond))
	if l.Before(f) {
		return "", "", false
	}
	return f.Format("2006-01"), l.Format("2006-01"), true
}

// figures returns the counts per ledger unit over [from, to), of unit only when unit != "",
// and the first top topics within each ledger unit (perUnit) or over all (under "").
func (s *Store) figures(ctx context.Context, from, to time.Time, unit string, perUnit bool, top int) (map[string]*unitFigures, map[string][]TopicFigures, error) {
	args := pgx.NamedArgs{"from": from, "to": to, "unit": unit}
	out, topics := map[string]*unitFigures{}, map[string][]TopicFigures{}
	rows, _ := s.pool.Query(ctx, figuresSQL, pgx.NamedArgs{"from": from, "to": to, "unit": unit, "per_unit": perUnit, "top": top})
	var byTopic bool
	var topic, category string
	var f unitFigures
	_, err := pgx.ForEachRow(rows, []any{&byTopic, &f.unit, &topic, &category, &f.received, &f.accepted, &f.closed,
		&f.closedOnTime, &f.overdueNow, &f.answered, &f.evaluated, &f.satisfied,
		&f.reviewRequested, &f.reReviewRequested, &f.groups,
		&f.routine.CalledBack, &f.routine.CallBackReached, &f.routine.EvaluatedByCallBack}, func() error {
		if byTopic {
			topics[f.unit] = append(topics[f.unit], TopicFigures{Topic: topic, Category: category,
				Received: f.received, Closed: f.closed, OverdueNow: f.overdueNow, Evaluated: f.evaluated,
				Satisfied: f.satisfied, SatisfactionRate: rate(f.satisfied, f.evaluated)})
			return nil
		}
		g := f
		out[f.unit] = &g
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("figures: %w", err)
	}

	rows, _ = s.pool.Query(ctx, eventFiguresSQL, args)
	var u string
	var repeats int
	var r RoutineFigures
	_, err = pgx.ForEachRow(rows, []any{&u, &repeats, &r.RepeatCases, &r.RepeatSubmissions,
		&r.JointProposed, &r.JointApproved, &r.JointDeclined, &r.JointConcluded,
		&r.Assigned, &r.AssignmentsOverdue}, func() error {
		f := of(out, u)
		f.repeats = repeats
		f.routine.add(r)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("event figures: %w", err)
	}

	if first, last, ok := screeningMonths(from, to); ok {
		args := pgx.NamedArgs{"first": first, "last": last, "unit": unit}
		rows, _ = s.pool.Query(ctx, screeningFiguresSQL, args)
		var sf ScreeningFigures
		_, err = pgx.ForEachRow(rows, []any{&u, &sf.ScreeningRounds, &sf.ScreeningDue, &sf.ScreeningOnTime,
			&sf.ScreeningLate, &sf.ScreeningZero, &sf.ScreeningMissed, &sf.ScreeningPending}, func() error {
			of(out, u).routine.add(RoutineFigures{ScreeningFigures: sf})
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("screening figures: %w", err)
		}
	}

	if err := s.warningFigures(ctx, args, out); err != nil {
		return nil, nil, err
	}
	for _, f := range out {
		f.routine.SkipLevel = f.warningsByRule[warning.RuleSkipLevel]
	}
	return out, topics, nil
}

func rate(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// Stats returns the figures petition offices report for [from, to), for one unit or, with
// unit "", for all. See the definitions above.
func (s *Store) Stats(ctx context.Context, from, to time.Time, unit string) (Stats, error) {
	figs, topics, err := s.figures(ctx, from, to, unit, false, TopTopics)
	if err != nil {
		return Stats{}, err
	}
	var t unitFigures
	screening := []UnitScreening{}
	for _, f := range figs {
		t.received += f.received
		t.accepted += f.accepted
		t.closed += f.closed
		t.closedOnTime += f.closedOnTime
		t.overdueNow += f.overdueNow
		t.answered += f.answered
		t.evaluated += f.evaluated
		t.satisfied += f.satisfied
		t.reviewRequested += f.reviewRequested
		t.reReviewRequested += f.reReviewRequested
		t.groups += f.groups
		t.repeats += f.repeats
		t.warnings += f.warnings
		t.routine.add(f.routine)
		if f.routine.ScreeningRounds > 0 {
			u := UnitScreening{Unit: f.unit, ScreeningFigures: f.routine.ScreeningFigures}
			u.setRate()
			screening = append(screening, u)
		}
	}
	slices.SortFunc(screening, func(a, b UnitScreening) int { return cmp.Compare(a.Unit, b.Unit) })
	t.routine.setRates(t.answered)
	st := Stats{
		From: from, To: to, Unit: unit,
		Received:          t.received,
		ByChannel:         map[string]int{},
		ByCategory:        map[string]int{},
		Accepted:          t.accepted,
		Closed:            t.closed,
		ClosedOnTime:      t.closedOnTime,
		OnTimeRate:        rate(t.closedOnTime, t.closed),
		OverdueNow:        t.overdueNow,
		Evaluated:         t.evaluated,
		Satisfied:         t.satisfied,
		SatisfactionRate:  rate(t.satisfied, t.evaluated),
		ParticipationRate: rate(t.evaluated, t.answered),
		ReviewRequested:   t.reviewRequested,
		ReviewRate:        rate(t.reviewRequested, t.answered),
		ReReviewRequested: t.reReviewRequested,
		ReReviewRate:      rate(t.reReviewRequested, t.answered),
		RepeatPetitions:   t.repeats,
		GroupPetitions:    t.groups,
		Warnings:          t.warnings,
		WarningsByRule:    warningsByRule(figs),
		Answered:          t.answered,
		RoutineFigures:    t.routine,
		ScreeningByUnit:   screening,
	}
	st.ByTopic = topics[""]
	if st.ByTopic == nil {
		st.ByTopic = []TopicFigures{}
	}
	rows, _ := s.pool.Query(ctx, `SELECT 'channel', channel, count(*) FROM cases
			WHERE registered_at >= @from AND registered_at < @to AND (@unit = '' OR ledger_unit = @unit)
			GROUP BY channel
		UNION ALL
		SELECT 'category', category, count(*) FROM cases
			WHERE registered_at >= @from AND registered_at < @to AND (@unit = '' OR ledger_unit = @unit)
			GROUP BY category`, pgx.NamedArgs{"from": from, "to": to, "unit": unit})
	var dim, key string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&dim, &key, &n}, func() error {
		if dim == "channel" {
			st.ByChannel[key] = n
		} else {
			st.ByCategory[key] = n
		}
		return nil
	})
	if err != nil {
		return Stats{}, err
	}
	return st, nil
}

// MonthlyReport returns the monthly ledger 台账 of the month containing month (in
// Asia/Shanghai): one row per unit of the register, by code, including units without cases,
// followed by a row for any other unit code cases carry (e.g. "" for cases routed nowhere
// yet). Figures are defined as for Stats; each row lists its unit's first TopicsPerUnit topics.
func (s *Store) MonthlyReport(ctx context.Context, month time.Time) ([]MonthlyRow, error) {
	m := month.In(shanghai)
	from := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, shanghai)
	to := from.AddDate(0, 1, 0)
	label := from.Format("2006-01")

	figs, topics, err := s.figures(ctx, from, to, "", true, TopicsPerUnit)
	if err != nil {
		return nil, err
	}
	units, err := s.Units(ctx)
	if err != nil {
		return nil, err
	}
	row := func(code, name string) MonthlyRow {
		r := MonthlyRow{Month: label, Unit: code, UnitName: name}
		if f := figs[code]; f != nil {
			r.Received, r.Accepted, r.Closed, r.ClosedOnTime = f.received, f.accepted, f.closed, f.closedOnTime
			r.OnTimeRate = rate(f.closedOnTime, f.closed)
			r.OverdueNow, r.Satisfied, r.Evaluated = f.overdueNow, f.satisfied, f.evaluated
			r.Reviews, r.ReReviews = f.reviewRequested, f.reReviewRequested
			r.Answered = f.answered
			r.ParticipationRate, r.SatisfactionRate = rate(f.evaluated, f.answered), rate(f.satisfied, f.evaluated)
			r.Warnings = f.warnings
			r.RepeatPetitions = f.repeats
			r.RoutineFigures = f.routine
			r.RoutineFigures.setRates(f.answered)
		}
		r.Topics = topics[code]
		if r.Topics == nil {
			r.Topics = []TopicFigures{}
		}
		delete(figs, code)
		return r
	}
	out := make([]MonthlyRow, 0, len(units)+len(figs))
	for _, u := range units {
		out = append(out, row(u.Code, u.Name))
	}
	extra := make([]string, 0, len(figs))
	for code := range figs {
		extra = append(extra, code)
	}
	slices.Sort(extra)
	for _, code := range extra {
		r := row(code, "")
		// A unit outside the directory gets a row only when a figure of the ledger counts.
		if !reflect.DeepEqual(r, MonthlyRow{Month: label, Unit: code, Topics: r.Topics}) {
			out = append(out, r)
		}
	}
	return out, nil
}
