package register

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// OpenCaseCount is the number of open cases of one unit at one escalation level, and how
// many of them are overdue. Unit is empty for cases no unit has accepted yet.
type OpenCaseCount struct {
	Unit            string
	EscalationLevel int
	Open            int
	Overdue         int
}

// OpenCaseCounts counts the open cases (not in a final stage) by unit and escalation level,
// for the metrics a monitoring system scrapes (internal/metrics). One query over the
// open-cases index; no personal data.
func (s *Store) OpenCaseCounts(ctx context.Context) ([]OpenCaseCount, error) {
	rows, _ := s.pool.Query(ctx, `SELECT unit, escalation_level, count(*), count(*) FILTER (WHERE overdue)
		FROM cases WHERE stage NOT IN `+finalStagesSQL+`
		GROUP BY unit, escalation_level ORDER BY unit, escalation_level`)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (OpenCaseCount, error) {
		var c OpenCaseCount
		err := r.Scan(&c.Unit, &c.EscalationLevel, &c.Open, &c.Overdue)
		return c, err
	})
}
