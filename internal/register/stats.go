package register

import (
	"context"
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
//   - repeat petitions: repeat submissions linked in the period (repeat_linked events), each
//     counting once; the case's repeat_count is their running total.
//   - group petitions 集体访: received in the period with 5 or more petitioners (group_size,
//     warning.GroupPetitionSize).
//   - warnings 预警: raised in the period on the unit's cases, in all and by rule (warning.go).
//
// A rate is 0 when its denominator is 0.

// unitFigures are one unit's counts over a period.
type unitFigures struct {
	unit                                       string
	received, accepted, closed, closedOnTime   int
	overdueNow, answered, evaluated, satisfied int
	reviewRequested, reReviewRequested, groups int
	repeats                                    int
	warnings                                   int
	warningsByRule                             map[string]int
}

// figuresSQL is a variable: the group petition size comes from internal/warning.
var figuresSQL = `
SELECT ledger_unit,
	count(*) FILTER (WHERE received_in),
	count(*) FILTER (WHERE accepted_at >= @from AND accepted_at < @to),
	count(*) FILTER (WHERE closed_in),
	count(*) FILTER (WHERE closed_in AND on_time),
	count(*) FILTER (WHERE overdue AND stage NOT IN ` + finalStagesSQL + `),
	count(*) FILTER (WHERE answered),
	count(*) FILTER (WHERE answered AND evaluation <> ''),
	count(*) FILTER (WHERE answered AND evaluation IN ('satisfied', 'basic_satisfied')),
	count(*) FILTER (WHERE answered AND review_requested),
	count(*) FILTER (WHERE answered AND re_review_requested),
	count(*) FILTER (WHERE received_in AND group_size >= ` + strconv.Itoa(warning.GroupPetitionSize) + `)
FROM (
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
			OR overdue)
) c
GROUP BY ledger_unit`

const repeatsSQL = `
SELECT c.ledger_unit, count(*)
FROM case_events e JOIN cases c USING (case_no)
WHERE e.type = 'repeat_linked' AND e.at >= @from AND e.at < @to
	AND (@unit = '' OR c.ledger_unit = @unit)
GROUP BY c.ledger_unit`

// figures returns the counts per ledger unit over [from, to), of unit only when unit != "".
func (s *Store) figures(ctx context.Context, from, to time.Time, unit string) (map[string]*unitFigures, error) {
	args := pgx.NamedArgs{"from": from, "to": to, "unit": unit}
	out := map[string]*unitFigures{}
	rows, _ := s.pool.Query(ctx, figuresSQL, args)
	var f unitFigures
	_, err := pgx.ForEachRow(rows, []any{&f.unit, &f.received, &f.accepted, &f.closed,
		&f.closedOnTime, &f.overdueNow, &f.answered, &f.evaluated, &f.satisfied,
		&f.reviewRequested, &f.reReviewRequested, &f.groups}, func() error {
		g := f
		out[f.unit] = &g
		return nil
	})
	if err != nil {
		return nil, err
	}
	rows, _ = s.pool.Query(ctx, repeatsSQL, args)
	var u string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&u, &n}, func() error {
		if out[u] == nil {
			out[u] = &unitFigures{unit: u}
		}
		out[u].repeats = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, s.warningFigures(ctx, args, out)
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
	figs, err := s.figures(ctx, from, to, unit)
	if err != nil {
		return Stats{}, err
	}
	var t unitFigures
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
	}
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
// yet). Figures are defined as for Stats.
func (s *Store) MonthlyReport(ctx context.Context, month time.Time) ([]MonthlyRow, error) {
	m := month.In(shanghai)
	from := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, shanghai)
	to := from.AddDate(0, 1, 0)
	label := from.Format("2006-01")

	figs, err := s.figures(ctx, from, to, "")
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
		if r != (MonthlyRow{Month: label, Unit: code}) { // only repeats and nothing else: skip
			out = append(out, r)
		}
	}
	return out, nil
}
