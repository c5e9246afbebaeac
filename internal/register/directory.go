package register

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Units returns every unit, by code.
func (s *Store) Units(ctx context.Context) ([]Unit, error) {
	rows, _ := s.pool.Query(ctx, `SELECT code, name, COALESCE(parent, ''), head, leader, email
		FROM units ORDER BY code`)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Unit])
}

// Unit returns one unit, or ErrNotFound.
func (s *Store) Unit(ctx context.Context, code string) (Unit, error) {
	rows, _ := s.pool.Query(ctx, `SELECT code, name, COALESCE(parent, ''), head, leader, email
		FROM units WHERE code = $1`, code)
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Unit])
	if errNoRows(err) {
		return Unit{}, ErrNotFound
	}
	return u, err
}

// Staff returns one member of staff, or ErrNotFound.
func (s *Store) Staff(ctx context.Context, id string) (Staff, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, name, role, unit, phone FROM staff WHERE id = $1`, id)
	st, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Staff])
	if errNoRows(err) {
		return Staff{}, ErrNotFound
	}
	return st, err
}

// StaffList returns all staff, by unit and ID.
func (s *Store) StaffList(ctx context.Context) ([]Staff, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, name, role, unit, phone FROM staff ORDER BY unit, id`)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Staff])
}

// StaffDirectory lists the enabled staff by unit and ID, of one unit and/or one role when
// given, for pickers (a handler to accept a case into, a leader in charge): ID, name, role and
// unit only, never a phone.
func (s *Store) StaffDirectory(ctx context.Context, unit, role string) ([]Staff, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, name, role, unit, '' FROM staff
		WHERE NOT disabled AND ($1 = '' OR unit = $1) AND ($2 = '' OR role = $2)
		ORDER BY unit, id`, unit, role)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Staff])
}

// IsPetitionOffice reports whether a unit is a petition office: a unit with clerks or
// supervisors on its staff (the registry and supervision of letters and visits). Its leaders
// oversee every case the office registered, whichever unit handles it.
func (s *Store) IsPetitionOffice(ctx context.Context, unit string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staff
		WHERE unit = $1 AND role IN ('clerk', 'supervisor') AND NOT disabled)`, unit).Scan(&ok)
	return ok, err
}

// RoutingRules returns the routing rules in the order Route tries them.
func (s *Store) RoutingRules(ctx context.Context) ([]RoutingRule, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+ruleColumns+`
		FROM routing_rules ORDER BY disabled, priority DESC, length(keyword) DESC, id`)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[RoutingRule])
}

// Route proposes the responsible unit for a petition: the rule of highest priority whose
// keyword occurs in the topic (case-insensitive) and whose category is empty or equal to
// category. Among equal priorities the longer keyword wins ("illegal construction" before
// "construction"), then the older rule. "" when no rule matches.
func (s *Store) Route(ctx context.Context, category, topic string) (string, error) {
	topic = strings.TrimSpace(topic)
	if topic == "" {
		return "", nil
	}
	var unit string
	err := s.pool.QueryRow(ctx, `SELECT unit FROM routing_rules
		WHERE NOT disabled AND strpos(lower($2), lower(keyword)) > 0
		  AND (category IS NULL OR category = '' OR category = $1)
		ORDER BY priority DESC, length(keyword) DESC, id
		LIMIT 1`, category, topic).Scan(&unit)
	if errNoRows(err) {
		return "", nil
	}
	return unit, err
}
