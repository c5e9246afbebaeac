package register

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// List limits.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// sortKey is the list order's first column, written exactly as the indexes of 0001_init.sql
// so the planner walks them: due date with "no deadline" last.
const sortKey = `COALESCE(due_at, 'infinity'::timestamptz)`

// cursor is the position after the last case of a page. It is sent base64url(JSON) so
// clients treat it as opaque.
type cursor struct {
	Due    *time.Time `json:"d,omitempty"` // nil: the last case had no deadline
	CaseNo string     `json:"n"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil && !ValidCaseNo(c.CaseNo) {
		err = fmt.Errorf("no case number")
	}
	if err != nil {
		return cursor{}, fmt.Errorf("%w: bad cursor: %v", ErrInvalidInput, err)
	}
	return c, nil
}

// escapeLike quotes LIKE's wildcards so user text matches literally.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// List returns one page of cases matching f, ordered by due date (cases without a deadline
// last), then case number. Pagination is by keyset: the cursor holds the last row's sort key,
// so a page costs an index seek however deep it is, and rows inserted meanwhile never shift
// pages. DueAfter is inclusive, DueBefore exclusive; both drop cases without a deadline.
// Cases are listed without petitioners (personal data): Get has them.
func (s *Store) List(ctx context.Context, f ListFilter) (Page, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)

	var where []string
	args := pgx.NamedArgs{}
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = @"+col)
			args[col] = v
		}
	}
	eq("stage", f.Stage)
	eq("unit", f.Unit)
	eq("category", f.Category)
	eq("channel", f.Channel)
	// Booleans and levels are inlined, not bound: a literal lets the planner prove the
	// partial indexes (WHERE overdue, WHERE escalation_level > 0) apply to a generic plan.
	if f.Overdue != nil {
		if *f.Overdue {
			where = append(where, "overdue")
		} else {
			where = append(where, "NOT overdue")
		}
	}
	if f.EscalationLevel != nil {
		where = append(where, fmt.Sprintf("escalation_level = %d", *f.EscalationLevel))
	}
	if f.DueAfter != nil {
		where = append(where, "due_at IS NOT NULL", sortKey+" >= @due_after")
		args["due_after"] = *f.DueAfter
	}
	if f.DueBefore != nil {
		where = append(where, sortKey+" < @due_before")
		args["due_before"] = *f.DueBefore
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		where = append(where, `(topic ILIKE @text ESCAPE '\' OR content ILIKE @text ESCAPE '\')`)
		args["text"] = "%" + escapeLike(t) + "%"
	}
	if sc := f.Scope; sc != nil {
		where = append(where, `(ledger_unit = ANY(@scope_ledger) OR review_unit = ANY(@scope_review)
			OR re_review_unit = ANY(@scope_review))`)
		args["scope_ledger"] = nonNil(sc.LedgerUnits)
		args["scope_review"] = nonNil(sc.ReviewUnits)
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return Page{}, err
		}
		where = append(where, "("+sortKey+", case_no) > (COALESCE(@cursor_due::timestamptz, 'infinity'), @cursor_no)")
		args["cursor_due"] = c.Due
		args["cursor_no"] = c.CaseNo
	}
	sql := "SELECT " + caseColumns + " FROM cases"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	// One row more than asked tells whether another page exists.
	sql += fmt.Sprintf(" ORDER BY %s, case_no LIMIT %d", sortKey, limit+1)

	rows, _ := s.pool.Query(ctx, sql, args)
	cases, err := pgx.CollectRows(rows, collectCase)
	if err != nil {
		return Page{}, fmt.Errorf("list cases: %w", err)
	}
	page := Page{Cases: cases}
	if len(cases) > limit {
		page.Cases = cases[:limit]
		last := page.Cases[limit-1]
		page.NextCursor = cursor{Due: last.DueAt, CaseNo: last.CaseNo}.encode()
	}
	if page.Cases == nil {
		page.Cases = []Case{}
	}
	return page, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ValidCaseNo reports whether no has the shape of a case number (e.g. 2026-000123): letters,
// digits, '-' and '_', at most 64. Such a string is safe in workflow IDs, log lines and SQL; a
// cursor or path naming anything else was forged or mistyped.
func ValidCaseNo(no string) bool {
	if no == "" || len(no) > 64 {
		return false
	}
	for _, r := range no {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
