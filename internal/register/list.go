package register

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/petitions/petitions/workflows"
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

// The statuses the routines' filters take (ListFilter.JointStatus, AssignmentStatus).
var (
	jointStatuses      = []string{workflows.JointProposed, workflows.JointApproved, workflows.JointDeclined, workflows.JointConcluded}
	assignmentStatuses = []string{workflows.AssignmentAwaiting, workflows.AssignmentReported, workflows.AssignmentAccepted}
)

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

	q, err := s.listWhere(f, true)
	if err != nil {
		return Page{}, err
	}
	// One row more than asked tells whether another page exists.
	sql := listSQL(caseColumns, q, limit+1)
	rows, _ := s.pool.Query(ctx, sql, planned(f, q.args)...)
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

// CountCap is how far Count counts: beyond it a list is "more than 10,000 cases", which is all
// a person needs to know, and counting stops there so the count of a broad filter on a register
// of millions stays as cheap as a page.
const CountCap = 10_000

// Count counts the cases matching f (its cursor and limit aside), up to limit: n is at most
// limit, and capped reports that more cases match. The count runs over a LIMIT limit+1
// subquery, so it stops reading rows there.
func (s *Store) Count(ctx context.Context, f ListFilter, limit int) (n int, capped bool, err error) {
	if limit <= 0 {
		limit = CountCap
	}
	f.Cursor = ""
	q, err := s.listWhere(f, false)
	if err != nil {
		return 0, false, err
	}
	counted := func(where []string) string {
		return fmt.Sprintf("(SELECT count(*) FROM (SELECT 1 FROM cases%s LIMIT %d) matching)", whereSQL(where), limit+1)
	}
	sql := "SELECT " + counted(q.where)
	if q.involved != "" {
		// The involved branch's cases that the first branch does not count already.
		sql += " + " + counted(q.involvedWhere(true))
	}
	if err := s.pool.QueryRow(ctx, sql, planned(f, q.args)...).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("count cases: %w", err)
	}
	if n > limit {
		return limit, true, nil
	}
	return n, false, nil
}

// ExportCap is the most cases one export holds (Export's usual max).
const ExportCap = 10_000

// Export returns the cases matching f in list order (f.Limit aside; after f.Cursor when set),
// at most max of them; capped reports that more match. The rows carry neither the content nor
// the location nor the query code, nor any petitioner: an export leaves the system as a file.
func (s *Store) Export(ctx context.Context, f ListFilter, max int) (cases []Case, capped bool, err error) {
	if max <= 0 {
		max = ExportCap
	}
	q, err := s.listWhere(f, true)
	if err != nil {
		return nil, false, err
	}
	rows, _ := s.pool.Query(ctx, listSQL(exportColumns, q, max+1), planned(f, q.args)...)
	cases, err = pgx.CollectRows(rows, collectCase)
	if err != nil {
		return nil, false, fmt.Errorf("export cases: %w", err)
	}
	if len(cases) > max {
		return cases[:max], true, nil
	}
	if cases == nil {
		cases = []Case{}
	}
	return cases, false, nil
}

// exportColumns are caseColumns with the free text that may name people (content, location)
// and the sealed query code left empty, in scanCase's order.
var exportColumns = strings.NewReplacer(
	"query_code,", "'' AS query_code,",
	" content,", " '' AS content,",
	" location,", " '' AS location,",
).Replace(caseColumns)

// listSQL is the list query: the select list, the conditions, the list order and a limit.
// A scope with an involved branch takes the first limit cases of each branch, each read in
// list order from its own index, and lists the first limit of the two.
func listSQL(columns string, q listQuery, limit int) string {
	order := fmt.Sprintf(" ORDER BY %s, case_no LIMIT %d", sortKey, limit)
	if q.involved == "" {
		return "SELECT " + columns + " FROM cases" + whereSQL(q.where) + order
	}
	branch := func(where []string) string { return "(SELECT case_no FROM cases" + whereSQL(where) + order + ")" }
	return "SELECT " + columns + " FROM cases WHERE case_no IN (" +
		branch(q.where) + " UNION " + branch(q.involvedWhere(false)) + ")" + order
}

// listWhere turns a filter into conditions on cases and their arguments; withCursor adds the
// keyset condition of f.Cursor.
func (s *Store) listWhere(f ListFilter, withCursor bool) (listQuery, error) {
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
	// A staff member's queue: each has its index on (person, due key, case_no) (0006).
	eq("handler", f.Handler)
	eq("leader", f.Leader)
	eq("registered_by", f.RegisteredBy)
	// Booleans and levels are inlined, not bound: a literal lets the planner prove the
	// partial indexes (WHERE overdue, WHERE escalation_level > 0) apply to a generic plan.
	if f.ExtensionPending != nil {
		// Inlined like overdue, so the partial index applies to a generic plan.
		if *f.ExtensionPending {
			where = append(where, "extension_pending")
		} else {
			where = append(where, "NOT extension_pending")
		}
	}
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
	if f.Warning != "" { // early warning (warning.go)
		where = append(where, "EXISTS (SELECT 1 FROM warnings w WHERE w.case_no = cases.case_no AND w.rule = @warning)")
		args["warning"] = f.Warning
	}
	// The routines' statuses are inlined like the booleans (after checking them against the
	// workflow's codes), so the partial indexes of 0012 (WHERE … <> '') apply to a generic plan.
	if f.JointStatus != "" {
		if !slices.Contains(jointStatuses, f.JointStatus) {
			return listQuery{}, fmt.Errorf("%w: joint investigation status %q", ErrInvalidInput, f.JointStatus)
		}
		where = append(where, "joint_status = '"+f.JointStatus+"'")
	}
	if f.AssignmentStatus != "" {
		if !slices.Contains(assignmentStatuses, f.AssignmentStatus) {
			return listQuery{}, fmt.Errorf("%w: assignment status %q", ErrInvalidInput, f.AssignmentStatus)
		}
		where = append(where, "assignment_status = '"+f.AssignmentStatus+"'")
	}
	if f.InvolvedUnit != "" {
		// The cases a unit co-handles or investigates jointly are few: looked up first in the
		// GIN index of 0012 (cases_involved_units_idx), as an array the rest of the query reads
		// by case number. A plain condition let the planner walk a whole unit's cases in list
		// order looking for them (120 ms on 300,000 cases; 2 ms so).
		where = append(where, "case_no = ANY(ARRAY(SELECT case_no FROM cases WHERE involved_units @> ARRAY[@involved_unit]::text[]))")
		args["involved_unit"] = f.InvolvedUnit
	}
	if f.DueAfter != nil {
		where = append(where, "due_at IS NOT NULL", sortKey+" >= @due_after")
		args["due_after"] = *f.DueAfter
	}
	if f.DueBefore != nil {
		where = append(where, sortKey+" < @due_before")
		args["due_before"] = *f.DueBefore
	}
	if f.RegisteredAfter != nil {
		where = append(where, "registered_at >= @registered_after")
		args["registered_after"] = *f.RegisteredAfter
	}
	if f.RegisteredBefore != nil {
		where = append(where, "registered_at < @registered_before")
		args["registered_before"] = *f.RegisteredBefore
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		arms := []string{`topic ILIKE @text ESCAPE '\'`, `content ILIKE @text ESCAPE '\'`}
		args["text"] = "%" + escapeLike(t) + "%"
		if ValidCaseNo(t) {
			arms = append(arms, "case_no = @text_case_no")
			args["text_case_no"] = t
		}
		if f.TextMatchesIdentity {
			x, err := s.sealer()
			if err != nil {
				return listQuery{}, err
			}
			id, phone := "", ""
			if looksLikeIDNumber(t) {
				id = t
			}
			if looksLikePhone(t) {
				phone = t
			}
			sub, subArgs := petitionersOf(x, t, id, phone)
			for k, v := range subArgs {
				args[k] = v
			}
			// = ANY(ARRAY(…)) rather than IN (…): the person's cases become an array first
			// (an InitPlan), so the arm is an index condition on the primary key and the
			// planner ORs it with the trigram indexes of the text arms, instead of testing a
			// hashed subquery against every row of the register (1.6 s against 2 ms on a
			// million cases).
			arm := "case_no = ANY(ARRAY(" + sub + "))"
			if f.IdentityExcludesAccusations {
				arm = "(category <> 'accusation' AND " + arm + ")"
			}
			arms = append(arms, arm)
		}
		where = append(where, "("+strings.Join(arms, " OR ")+")")
	}
	q := listQuery{scopeAt: -1}
	if f.Scope != nil {
		var cond string
		cond, q.involved = scopeCondition(f.Scope, args)
		q.scopeAt = len(where)
		where = append(where, cond)
	}
	if withCursor && f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return listQuery{}, err
		}
		where = append(where, "("+sortKey+", case_no) > (COALESCE(@cursor_due::timestamptz, 'infinity'), @cursor_no)")
		args["cursor_due"] = c.Due
		args["cursor_no"] = c.CaseNo
	}
	q.where, q.args = where, args
	return q, nil
}

// listQuery is a filter's conditions (ANDed) and arguments. With a scope, where[scopeAt] is
// the scope's condition and involved its other branch (scopeCondition).
type listQuery struct {
	where    []string
	args     pgx.NamedArgs
	scopeAt  int
	involved string
}

// involvedWhere is where with the scope's condition replaced by its involved branch; without
// the cases of the first branch when only shows them (counts must not count a case twice).
func (q listQuery) involvedWhere(only bool) []string {
	w := slices.Clone(q.where)
	if only {
		w[q.scopeAt] = "(" + q.involved + " AND " + q.where[q.scopeAt] + " IS NOT TRUE)"
	} else {
		w[q.scopeAt] = q.involved
	}
	return w
}

func whereSQL(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// petitionersOf is a subquery of the case numbers with a petitioner of this name (exactly),
// ID number or phone (normalised, compared by keyed hash); empty values match nothing. Each
// arm is an index lookup (petitioners_name_idx, the partial hash indexes, whose predicate is
// repeated so a generic plan may use them).
func petitionersOf(x Sealer, name, idNumber, phone string) (string, pgx.NamedArgs) {
	arms := []string{"false"}
	args := pgx.NamedArgs{}
	if name = strings.TrimSpace(name); name != "" {
		arms = append(arms, "name = @who_name")
		args["who_name"] = name
	}
	if id := normalizeIDNumber(idNumber); id != "" {
		arms = append(arms, "(id_number_hash = @who_id AND id_number_hash <> '')")
		args["who_id"] = x.Index(id)
	}
	if ph := normalizePhone(phone); ph != "" {
		arms = append(arms, "(phone_hash = @who_phone AND phone_hash <> '')")
		args["who_phone"] = x.Index(ph)
	}
	return "SELECT case_no FROM petitioners WHERE " + strings.Join(arms, " OR "), args
}

// looksLikeIDNumber: a resident ID number as typed, 15 or 18 characters of digits with an
// optional final X (only those can match: registration checks ID numbers).
func looksLikeIDNumber(s string) bool {
	s = normalizeIDNumber(s)
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for i, r := range s {
		if !(r >= '0' && r <= '9' || r == 'X' && i == len(s)-1) {
			return false
		}
	}
	return true
}

// looksLikePhone: digits (also full-width) with the separators people type, 3 to 20 digits.
func looksLikePhone(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= '０' && r <= '９' || strings.ContainsRune("+-() ", r)) {
			return false
		}
	}
	n := len(normalizePhone(s))
	return n >= 3 && n <= 20
}

// scopeCondition is the condition of the cases sc lets a reader see (Scope) through their
// ledger, review and re-review units, its arguments added to args; involved is the condition
// of the cases the scope's units co-handle or investigate jointly (0012, GIN index), "" when
// the scope has no ledger units. The two are kept apart: OR-ed into one condition they would
// keep the planner from reading a unit's cases in list order from its index (a home page went
// from 27 ms to 770 ms on a million cases), so lists and counts run them as two branches.
func scopeCondition(sc *Scope, args pgx.NamedArgs) (cond, involved string) {
	// Only the arms a scope has: each is an index condition (0008), and an arm that can
	// never match would still make the planner consider it.
	var arms []string
	if len(sc.LedgerUnits) > 0 {
		args["scope_ledger"] = sc.LedgerUnits
		arms = append(arms, "ledger_unit = ANY(@scope_ledger)")
		// As the involved_unit filter: the few cases first, from the GIN index.
		involved = "case_no = ANY(ARRAY(SELECT case_no FROM cases WHERE involved_units && @scope_ledger::text[]))"
	}
	if len(sc.ReviewUnits) > 0 {
		args["scope_review"] = sc.ReviewUnits
		arms = append(arms, "review_unit = ANY(@scope_review)", "re_review_unit = ANY(@scope_review)")
	}
	if len(arms) == 0 {
		return "false", "" // an empty scope sees nothing
	}
	return "(" + strings.Join(arms, " OR ") + ")", involved
}

// planned is a list query's arguments. A search (Text) or a registration window is planned for
// its own values on each call (an unnamed statement): a cached generic plan cannot tell a rare
// pattern or today's registrations from a common one, and walks a person's or the whole
// register in list order instead (2.5 s against 0.2 s for a search on a million cases). Other
// filters keep the cached statement: their selective conditions are inlined literals.
func planned(f ListFilter, args pgx.NamedArgs) []any {
	if strings.TrimSpace(f.Text) != "" || f.RegisteredAfter != nil || f.RegisteredBefore != nil {
		return []any{pgx.QueryExecModeExec, args}
	}
	return []any{args}
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
