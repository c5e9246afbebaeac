package register

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/petitions/petitions/workflows"
)

// Warning is an early warning (预警) raised on a case: the rule that fired and why.
type Warning struct {
	Rule     string    `json:"rule"`
	Reason   string    `json:"reason"`
	Seq      int64     `json:"seq"`
	RaisedAt time.Time `json:"raised_at"`
}

// CaseWarnings are a case's early-warning data: the level its petition was lodged at and the
// warnings raised on it, oldest first.
type CaseWarnings struct {
	LodgedLevel string    `json:"lodged_level,omitempty"`
	Warnings    []Warning `json:"warnings"`
}

// WarningFacts are what the warning rules need of the register about one case. No personal
// data: the petitioner's open cases are counted by keyed hash and answered as a number.
type WarningFacts struct {
	LodgedLevel string
	// CompetentLevel is the level of the unit asked about ("" unknown).
	CompetentLevel string
	// OpenCases: open cases sharing an ID number or phone (keyed hash) with one of this case's
	// petitioners, this one included when open.
	OpenCases int
}

// unitLevelSQL is the level of unit $1: that of the nearest unit up its chain listed in
// unit_levels (bounded, should the directory ever hold a cycle).
const unitLevelSQL = `WITH RECURSIVE chain (code, parent, depth) AS (
		SELECT code, parent, 0 FROM units WHERE code = $1
		UNION ALL
		SELECT u.code, u.parent, c.depth + 1 FROM units u JOIN chain c ON u.code = c.parent
		WHERE c.depth < 16)
	SELECT l.level FROM chain c JOIN unit_levels l USING (code) ORDER BY c.depth LIMIT 1`

// openCasesSQL counts the open cases of $1's petitioners, by the keyed hashes repeat
// detection compares.
const openCasesSQL = `SELECT count(DISTINCT c.case_no) FROM petitioners p JOIN cases c USING (case_no)
	WHERE c.stage NOT IN ` + finalStagesSQL + `
		AND (p.id_number_hash IN (SELECT id_number_hash FROM petitioners WHERE case_no = $1 AND id_number_hash <> '')
			OR p.phone_hash IN (SELECT phone_hash FROM petitioners WHERE case_no = $1 AND phone_hash <> ''))`

// WarningFacts answers what the rules need about a case whose competent unit is unit.
func (s *Store) WarningFacts(ctx context.Context, caseNo, unit string) (WarningFacts, error) {
	var f WarningFacts
	err := s.pool.QueryRow(ctx, `SELECT lodged_level FROM cases WHERE case_no = $1`, caseNo).Scan(&f.LodgedLevel)
	if err != nil && !errNoRows(err) {
		return f, fmt.Errorf("lodged level of %s: %w", caseNo, err)
	}
	if unit != "" {
		if f.CompetentLevel, err = s.UnitLevel(ctx, unit); err != nil {
			return f, err
		}
	}
	if err := s.pool.QueryRow(ctx, openCasesSQL, caseNo).Scan(&f.OpenCases); err != nil {
		return f, fmt.Errorf("open cases of %s's petitioners: %w", caseNo, err)
	}
	return f, nil
}

// UnitLevel is the administrative level a unit stands at ("" when none up its chain is
// listed in unit_levels).
func (s *Store) UnitLevel(ctx context.Context, unit string) (string, error) {
	var level string
	err := s.pool.QueryRow(ctx, unitLevelSQL, unit).Scan(&level)
	if err != nil && !errNoRows(err) {
		return "", fmt.Errorf("level of unit %s: %w", unit, err)
	}
	return level, nil
}

// Warnings returns a case's lodged level and warnings, oldest first.
func (s *Store) Warnings(ctx context.Context, caseNo string) (CaseWarnings, error) {
	out := CaseWarnings{Warnings: []Warning{}}
	err := s.pool.QueryRow(ctx, `SELECT lodged_level FROM cases WHERE case_no = $1`, caseNo).Scan(&out.LodgedLevel)
	if errNoRows(err) {
		return out, ErrNotFound
	}
	if err != nil {
		return out, fmt.Errorf("lodged level of %s: %w", caseNo, err)
	}
	rows, _ := s.pool.Query(ctx, `SELECT rule, reason, seq, raised_at FROM warnings
		WHERE case_no = $1 ORDER BY seq`, caseNo)
	ws, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Warning])
	if err != nil {
		return out, fmt.Errorf("warnings of %s: %w", caseNo, err)
	}
	if ws != nil {
		out.Warnings = ws
	}
	return out, nil
}

// applyWarning projects a warning_raised event into warnings (ApplyTransition's transaction):
// once per case and rule, whenever and however often it arrives.
func applyWarning(ctx context.Context, tx pgx.Tx, caseNo string, ev workflows.Event) error {
	if ev.Type != workflows.EventWarningRaised {
		return nil
	}
	rule, _ := ev.Details["rule"].(string)
	reason, _ := ev.Details["reason"].(string)
	if rule == "" {
		return fmt.Errorf("%w: warning_raised %s#%d without a rule", ErrInvalidInput, caseNo, ev.Seq)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO warnings (case_no, rule, reason, seq, raised_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_no, rule) DO NOTHING`,
		caseNo, rule, reason, ev.Seq, ev.At); err != nil {
		return fmt.Errorf("record warning %s#%d: %w", caseNo, ev.Seq, err)
	}
	return nil
}

// warningsSQL counts warnings raised in [from, to) by ledger unit and rule.
const warningsSQL = `
SELECT c.ledger_unit, w.rule, count(*)
FROM warnings w JOIN cases c USING (case_no)
WHERE w.raised_at >= @from AND w.raised_at < @to
	AND (@unit = '' OR c.ledger_unit = @unit)
GROUP BY c.ledger_unit, w.rule`

// warningFigures adds the warnings raised over the period (args: from, to, unit) to figs.
func (s *Store) warningFigures(ctx context.Context, args pgx.NamedArgs, figs map[string]*unitFigures) error {
	rows, _ := s.pool.Query(ctx, warningsSQL, args)
	var unit, rule string
	var n int
	_, err := pgx.ForEachRow(rows, []any{&unit, &rule, &n}, func() error {
		f := figs[unit]
		if f == nil {
			f = &unitFigures{unit: unit}
			figs[unit] = f
		}
		if f.warningsByRule == nil {
			f.warningsByRule = map[string]int{}
		}
		f.warnings += n
		f.warningsByRule[rule] += n
		return nil
	})
	if err != nil {
		return fmt.Errorf("warning figures: %w", err)
	}
	return nil
}

// warningsByRule sums the units' warnings by rule (nil: none raised).
func warningsByRule(figs map[string]*unitFigures) map[string]int {
	var out map[string]int
	for _, f := range figs {
		for rule, n := range f.warningsByRule {
			if out == nil {
				out = map[string]int{}
			}
			out[rule] += n
		}
	}
	return out
}
