package register

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/petitions/petitions/workflows"
)

// Monthly dispute screening (矛盾纠纷排查): the register's copy of each round, written by the
// round's workflow through ApplyScreening, read by the API (who filed, who filed zero, who is
// late, the ledger) and by the petition office turning a listed dispute into a case.

// ScreeningRound is a round and its figures.
type ScreeningRound struct {
	Month    string     `json:"month"`
	Policy   string     `json:"policy"`
	OpenedAt time.Time  `json:"opened_at"`
	DueAt    time.Time  `json:"due_at"`
	ClosesAt time.Time  `json:"closes_at"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
	// Counts of the units' reports by status; Overdue: pending units past the due instant.
	Units   int `json:"units"`
	Filed   int `json:"filed"`
	Zero    int `json:"zero"`
	Pending int `json:"pending"`
	Missed  int `json:"missed"`
	Overdue int `json:"overdue"`
	Late    int `json:"late"`
	// Disputes: the lines filed in all forms.
	Disputes int `json:"disputes"`
}

// ScreeningReport is one unit's report in a round.
type ScreeningReport struct {
	Month           string     `json:"month"`
	Unit            string     `json:"unit"`
	Status          string     `json:"status"`
	FiledAt         *time.Time `json:"filed_at,omitempty"`
	FiledBy         string     `json:"filed_by,omitempty"`
	FiledByName     string     `json:"filed_by_name,omitempty"`
	Late            bool       `json:"late"`
	Overdue         bool       `json:"overdue"`
	EscalationLevel int        `json:"escalation_level"`
	Disputes        int        `json:"disputes"`
	Note            string     `json:"note,omitempty"`
	Seq             int64      `json:"seq"`
}

// ScreeningDispute is one line of a filed form.
type ScreeningDispute struct {
	ID        int64      `json:"id"`
	Month     string     `json:"month"`
	Unit      string     `json:"unit"`
	Item      int        `json:"item"`
	Kind      string     `json:"kind"`
	Summary   string     `json:"summary"`
	Leader    string     `json:"leader"`
	Plan      string     `json:"plan"`
	TimeLimit string     `json:"time_limit"`
	CaseNo    string     `json:"case_no,omitempty"`
	LinkedBy  string     `json:"linked_by,omitempty"`
	LinkedAt  *time.Time `json:"linked_at,omitempty"`
}

// ScreeningEvent is one event of a round or of a unit's report.
type ScreeningEvent struct {
	Unit    string          `json:"unit,omitempty"`
	Seq     int64           `json:"seq"`
	Type    string          `json:"type"`
	At      time.Time       `json:"at"`
	Actor   workflows.Actor `json:"actor"`
	Details map[string]any  `json:"details,omitempty"`
}

// ApplyScreening projects one event of a round: the round's row, the event (once per (month,
// unit, seq)), the unit's report when its seq is newer than the row's, and the form's lines.
func (s *Store) ApplyScreening(ctx context.Context, t workflows.ScreeningTransition) error {
	if t.Month == "" || t.Event.Seq <= 0 {
		return fmt.Errorf("%w: screening transition without month or seq", ErrInvalidInput)
	}
	ev := t.Event
	actor, err := json.Marshal(ev.Actor)
	if err != nil {
		return err
	}
	var details []byte
	if len(ev.Details) > 0 {
		if details, err = json.Marshal(ev.Details); err != nil {
			return err
		}
	}
	r := t.Round
	var closedAt *time.Time
	if r.Closed {
		closedAt = &ev.At
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO screening_rounds (month, policy, opened_at, due_at, closes_at, closed_at, seq)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (month) DO UPDATE SET closed_at = COALESCE(screening_rounds.closed_at, EXCLUDED.closed_at),
				seq = GREATEST(screening_rounds.seq, EXCLUDED.seq)`,
			t.Month, r.Policy, r.OpenedAt, r.DueAt, r.ClosesAt, closedAt, r.Seq); err != nil {
			return fmt.Errorf("screening round %s: %w", t.Month, err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO screening_events (month, unit, seq, type, at, actor, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (month, unit, seq) DO NOTHING`,
			t.Month, t.Unit, ev.Seq, ev.Type, ev.At, actor, details)
		if err != nil {
			return fmt.Errorf("screening event %s/%s#%d: %w", t.Month, t.Unit, ev.Seq, err)
		}
		if tag.RowsAffected() == 0 {
			return nil // delivered before
		}
		if rep := t.Report; rep != nil && t.Unit != "" {
			var by, byName string
			if rep.FiledBy != nil {
				by, byName = rep.FiledBy.ID, rep.FiledBy.Name
			}
			if _, err := tx.Exec(ctx, `INSERT INTO screening_reports (month, unit, status, filed_at, filed_by,
					filed_by_name, late, overdue, escalation_level, disputes, note, seq, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
				ON CONFLICT (month, unit) DO UPDATE SET status = EXCLUDED.status, filed_at = EXCLUDED.filed_at,
					filed_by = EXCLUDED.filed_by, filed_by_name = EXCLUDED.filed_by_name, late = EXCLUDED.late,
					overdue = EXCLUDED.overdue, escalation_level = EXCLUDED.escalation_level,
					disputes = EXCLUDED.disputes,
					note = CASE WHEN EXCLUDED.note <> '' THEN EXCLUDED.note ELSE screening_reports.note END,
					seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at
				WHERE screening_reports.seq < EXCLUDED.seq`,
				t.Month, t.Unit, rep.Status, rep.FiledAt, by, byName, rep.Late, rep.Overdue, rep.EscalationLevel,
				rep.Disputes, t.Note, rep.Seq, ev.At); err != nil {
				return fmt.Errorf("screening report %s/%s: %w", t.Month, t.Unit, err)
			}
		}
		if t.Event.Type == workflows.EventRoundOpened {
			// Every unit asked to file gets its pending row at once, so the round's page lists
			// the units that have not filed before any of their events.
			units, _ := ev.Details["units"].([]any)
			codes, _ := ev.Details["units"].([]string)
			for _, u := range units {
				if s, ok := u.(string); ok {
					codes = append(codes, s)
				}
			}
			for _, u := range codes {
				if _, err := tx.Exec(ctx, `INSERT INTO screening_reports (month, unit, status, seq, updated_at)
					VALUES ($1, $2, $3, 0, $4) ON CONFLICT (month, unit) DO NOTHING`,
					t.Month, u, workflows.ReportPending, ev.At); err != nil {
					return fmt.Errorf("screening report %s/%s: %w", t.Month, u, err)
				}
			}
		}
		for i, d := range t.Disputes {
			if _, err := tx.Exec(ctx, `INSERT INTO screening_disputes (month, unit, item, kind, summary, leader, plan, time_limit)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (month, unit, item) DO NOTHING`,
				t.Month, t.Unit, i+1, d.Kind, d.Summary, d.Leader, d.Plan, d.TimeLimit); err != nil {
				return fmt.Errorf("screening dispute %s/%s/%d: %w", t.Month, t.Unit, i+1, err)
			}
		}
		return nil
	})
}

// ScreeningUnits are the units that must file a screening form: every unit with a handler
// on its staff (the units that handle cases; the petition office itself registers and
// supervises, and collects the forms).
func (s *Store) ScreeningUnits(ctx context.Context) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT DISTINCT unit FROM staff WHERE role = 'handler' AND NOT disabled ORDER BY unit`)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

const roundColumns = `r.month, r.policy, r.opened_at, r.due_at, r.closes_at, r.closed_at,
	count(p.unit)::int,
	count(p.unit) FILTER (WHERE p.status = 'filed')::int,
	count(p.unit) FILTER (WHERE p.status = 'zero')::int,
	count(p.unit) FILTER (WHERE p.status = 'pending')::int,
	count(p.unit) FILTER (WHERE p.status = 'missed')::int,
	count(p.unit) FILTER (WHERE p.status = 'pending' AND p.overdue)::int,
	count(p.unit) FILTER (WHERE p.late)::int,
	COALESCE(sum(p.disputes), 0)::int`

// ScreeningRounds lists the rounds, newest first, with the figures of the given units (nil:
// every unit).
func (s *Store) ScreeningRounds(ctx context.Context, units []string) ([]ScreeningRound, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+roundColumns+`
		FROM screening_rounds r
		LEFT JOIN screening_reports p ON p.month = r.month AND ($1::text[] IS NULL OR p.unit = ANY($1))
		GROUP BY r.month ORDER BY r.month DESC LIMIT 120`, units)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ScreeningRound])
}

// ScreeningRoundOf returns one round with the figures of the given units, or ErrNotFound.
func (s *Store) ScreeningRoundOf(ctx context.Context, month string, units []string) (ScreeningRound, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+roundColumns+`
		FROM screening_rounds r
		LEFT JOIN screening_reports p ON p.month = r.month AND ($2::text[] IS NULL OR p.unit = ANY($2))
		WHERE r.month = $1 GROUP BY r.month`, month, units)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[ScreeningRound])
	if errNoRows(err) {
		return ScreeningRound{}, ErrNotFound
	}
	return r, err
}

// ScreeningReports lists a round's reports of the given units (nil: every unit), by unit.
func (s *Store) ScreeningReports(ctx context.Context, month string, units []string) ([]ScreeningReport, error) {
	rows, _ := s.pool.Query(ctx, `SELECT month, unit, status, filed_at, filed_by, filed_by_name, late, overdue,
			escalation_level, disputes, note, seq
		FROM screening_reports WHERE month = $1 AND ($2::text[] IS NULL OR unit = ANY($2)) ORDER BY unit`, month, units)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ScreeningReport])
}

const disputeColumns = `id, month, unit, item, kind, summary, leader, plan, to_char(time_limit, 'YYYY-MM-DD'),
	COALESCE(case_no, ''), linked_by, linked_at`

// ScreeningDisputes lists a round's form lines of the given units (nil: every unit).
func (s *Store) ScreeningDisputes(ctx context.Context, month string, units []string) ([]ScreeningDispute, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+disputeColumns+` FROM screening_disputes
		WHERE month = $1 AND ($2::text[] IS NULL OR unit = ANY($2)) ORDER BY unit, item`, month, units)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ScreeningDispute])
}

// ScreeningDisputeByID returns one form line, or ErrNotFound.
func (s *Store) ScreeningDisputeByID(ctx context.Context, id int64) (ScreeningDispute, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+disputeColumns+` FROM screening_disputes WHERE id = $1`, id)
	d, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[ScreeningDispute])
	if errNoRows(err) {
		return ScreeningDispute{}, ErrNotFound
	}
	return d, err
}

// ErrDisputeLinked: the form line is linked to another case already.
var ErrDisputeLinked = errors.New("the dispute has become another case already")

// LinkScreeningDispute records that a form line became a case. Linking it to the same case
// again changes nothing; to another case is ErrDisputeLinked.
func (s *Store) LinkScreeningDispute(ctx context.Context, id int64, caseNo, by string, at time.Time) (ScreeningDispute, error) {
	var d ScreeningDispute
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT `+disputeColumns+` FROM screening_disputes WHERE id = $1 FOR UPDATE`, id)
		cur, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[ScreeningDispute])
		if errNoRows(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		switch cur.CaseNo {
		case caseNo:
			d = cur
			return nil
		case "":
		default:
			return fmt.Errorf("%w (case %s)", ErrDisputeLinked, cur.CaseNo)
		}
		if _, err := tx.Exec(ctx, `UPDATE screening_disputes SET case_no = $2, linked_by = $3, linked_at = $4 WHERE id = $1`,
			id, caseNo, by, at); err != nil {
			return err
		}
		actor, _ := json.Marshal(workflows.Actor{ID: by})
		details, _ := json.Marshal(map[string]any{"dispute": id, "item": cur.Item, "case_no": caseNo})
		// The link is an event of the unit's report, after every event of the round's own.
		if _, err := tx.Exec(ctx, `INSERT INTO screening_events (month, unit, seq, type, at, actor, details)
			SELECT $1, $2, 1000000 + $3, $4, $5, $6, $7 ON CONFLICT DO NOTHING`,
			cur.Month, cur.Unit, id, workflows.EventDisputeCase, at, actor, details); err != nil {
			return err
		}
		cur.CaseNo, cur.LinkedBy, cur.LinkedAt = caseNo, by, &at
		d = cur
		return nil
	})
	return d, err
}

// ScreeningEvents lists a round's events of the given units (nil: every unit, and the
// round's own), in order.
func (s *Store) ScreeningEvents(ctx context.Context, month string, units []string) ([]ScreeningEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT unit, seq, type, at, actor, details FROM screening_events
		WHERE month = $1 AND ($2::text[] IS NULL OR unit = ANY($2)) ORDER BY at, unit, seq`, month, units)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ScreeningEvent
	for rows.Next() {
		var e ScreeningEvent
		var actor, details []byte
		if err := rows.Scan(&e.Unit, &e.Seq, &e.Type, &e.At, &actor, &details); err != nil {
			return nil, err
		}
		_ = json.Unmarshal(actor, &e.Actor)
		if len(details) > 0 {
			_ = json.Unmarshal(details, &e.Details)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
