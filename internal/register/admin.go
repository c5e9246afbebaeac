package register

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Administration of the directory (units, routing rules) and of the office's policy
// allow-list. Every change writes its audit entry in the same transaction, so no change is
// ever without its record.

// AuditEntry is one audited administrative change (or a query code reissue).
type AuditEntry struct {
	ID      int64          `json:"id"`
	At      time.Time      `json:"at"`
	ActorID string         `json:"actor_id"`
	Action  string         `json:"action"`
	Target  string         `json:"target"`
	Details map[string]any `json:"details,omitempty"`
}

// PersonalDataRead is one record of the 查阅记录: who read which case's personal data, when.
type PersonalDataRead struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	StaffID string    `json:"staff_id"`
	CaseNo  string    `json:"case_no"`
	Purpose string    `json:"purpose"`
}

// Audit records one administrative change outside a register transaction (e.g. an account
// change made by the sign-in service).
func (s *Store) Audit(ctx context.Context, actorID, action, target string, details map[string]any) error {
	return audit(ctx, s.pool, actorID, action, target, details)
}

func audit(ctx context.Context, q querier, actorID, action, target string, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("audit details: %w", err)
	}
	_, err = q.Exec(ctx, `INSERT INTO admin_audit (actor_id, action, target, details) VALUES ($1, $2, $3, $4)`,
		actorID, action, target, b)
	if err != nil {
		return fmt.Errorf("audit %s %s: %w", action, target, err)
	}
	return nil
}

// AuditLog lists audit entries, newest first, before the entry with ID before (0: from the
// newest), at most limit.
func (s *Store) AuditLog(ctx context.Context, before int64, limit int) ([]AuditEntry, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, at, actor_id, action, target, details FROM admin_audit
		WHERE ($1 = 0 OR id < $1) ORDER BY id DESC LIMIT $2`, before, limit)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[AuditEntry])
}

// RecordPersonalDataRead notes that staffID read the personal data of caseNo.
func (s *Store) RecordPersonalDataRead(ctx context.Context, staffID, caseNo, purpose string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO personal_data_reads (staff_id, case_no, purpose) VALUES ($1, $2, $3)`,
		staffID, caseNo, purpose)
	if err != nil {
		return fmt.Errorf("record personal data read: %w", err)
	}
	return nil
}

// PersonalDataReads lists the records of reads, newest first, optionally of one case or one
// member of staff, before the record with ID before (0: from the newest), at most limit.
func (s *Store) PersonalDataReads(ctx context.Context, caseNo, staffID string, before int64, limit int) ([]PersonalDataRead, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, at, staff_id, case_no, purpose FROM personal_data_reads
		WHERE ($1 = '' OR case_no = $1) AND ($2 = '' OR staff_id = $2) AND ($3 = 0 OR id < $3)
		ORDER BY id DESC LIMIT $4`, caseNo, staffID, before, limit)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PersonalDataRead])
}

// CreateUnit adds a unit. ErrConflict if the code exists; ErrInvalidInput if the parent does
// not.
func (s *Store) CreateUnit(ctx context.Context, u Unit, by string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO units (code, name, parent, head, leader, email)
			VALUES ($1, $2, NULLIF($3, ''), $4, $5, $6)`, u.Code, u.Name, u.Parent, u.Head, u.Leader, u.Email)
		if err := directoryError(err, "unit "+u.Code); err != nil {
			return err
		}
		// The parent's foreign key is deferred: check it now for a clear answer.
		if err := checkParent(ctx, tx, u); err != nil {
			return err
		}
		return audit(ctx, tx, by, "unit.create", u.Code, unitDetails(u))
	})
}

// UpdateUnit changes a unit's name, parent, head, leader and e-mail. ErrNotFound if the unit
// does not exist. A unit cannot become its own ancestor.
func (s *Store) UpdateUnit(ctx context.Context, u Unit, by string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE units SET name = $2, parent = NULLIF($3, ''), head = $4,
			leader = $5, email = $6 WHERE code = $1`, u.Code, u.Name, u.Parent, u.Head, u.Leader, u.Email)
		if err := directoryError(err, "unit "+u.Code); err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		if err := checkParent(ctx, tx, u); err != nil {
			return err
		}
		var cycle bool
		if err := tx.QueryRow(ctx, `WITH RECURSIVE up(code, depth) AS (
				SELECT parent, 1 FROM units WHERE code = $1
				UNION ALL SELECT u.parent, up.depth + 1 FROM units u JOIN up ON u.code = up.code
				WHERE up.code IS NOT NULL AND up.depth < 100)
			SELECT EXISTS (SELECT 1 FROM up WHERE code = $1)`, u.Code).Scan(&cycle); err != nil {
			return err
		}
		if cycle {
			return fmt.Errorf("%w: unit %s cannot be placed under itself", ErrInvalidInput, u.Code)
		}
		return audit(ctx, tx, by, "unit.update", u.Code, unitDetails(u))
	})
}

func checkParent(ctx context.Context, tx pgx.Tx, u Unit) error {
	if u.Parent == "" {
		return nil
	}
	if u.Parent == u.Code {
		return fmt.Errorf("%w: a unit cannot be its own parent", ErrInvalidInput)
	}
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM units WHERE code = $1)`, u.Parent).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no parent unit %q", ErrInvalidInput, u.Parent)
	}
	return nil
}

func unitDetails(u Unit) map[string]any {
	return map[string]any{"name": u.Name, "parent": u.Parent, "head": u.Head, "leader": u.Leader, "email": u.Email}
}

// CreateRoutingRule adds a routing rule and returns it with its ID. ErrConflict if a rule for
// the same keyword and category exists; ErrInvalidInput if the unit does not.
func (s *Store) CreateRoutingRule(ctx context.Context, r RoutingRule, by string) (RoutingRule, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO routing_rules (keyword, category, unit, priority, disabled)
			VALUES ($1, NULLIF($2, ''), $3, $4, $5) RETURNING id`,
			r.Keyword, r.Category, r.Unit, r.Priority, r.Disabled).Scan(&r.ID)
		if err := directoryError(err, "routing rule"); err != nil {
			return err
		}
		return audit(ctx, tx, by, "routing_rule.create", fmt.Sprint(r.ID), ruleDetails(r))
	})
	return r, err
}

// UpdateRoutingRule changes a rule (keyword, category, unit, priority, disabled).
func (s *Store) UpdateRoutingRule(ctx context.Context, r RoutingRule, by string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE routing_rules SET keyword = $2, category = NULLIF($3, ''),
			unit = $4, priority = $5, disabled = $6 WHERE id = $1`,
			r.ID, r.Keyword, r.Category, r.Unit, r.Priority, r.Disabled)
		if err := directoryError(err, "routing rule"); err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return audit(ctx, tx, by, "routing_rule.update", fmt.Sprint(r.ID), ruleDetails(r))
	})
}

// ruleColumns is the select list of a RoutingRule, in its fields' order.
const ruleColumns = `id, keyword, COALESCE(category, ''), unit, priority, disabled`

// RoutingRule returns one rule, or ErrNotFound.
func (s *Store) RoutingRule(ctx context.Context, id int64) (RoutingRule, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+ruleColumns+` FROM routing_rules WHERE id = $1`, id)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[RoutingRule])
	if errNoRows(err) {
		return RoutingRule{}, ErrNotFound
	}
	return r, err
}

func ruleDetails(r RoutingRule) map[string]any {
	return map[string]any{"keyword": r.Keyword, "category": r.Category, "unit": r.Unit,
		"priority": r.Priority, "disabled": r.Disabled}
}

// directoryError maps constraint violations of directory writes to the register's errors.
func directoryError(err error, what string) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %s already exists", ErrConflict, what)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: %s names a unit that does not exist", ErrInvalidInput, what)
		case "23514", "22001", "22P02": // check, string too long, bad text representation
			return fmt.Errorf("%w: %s: %s", ErrInvalidInput, what, pg.Message)
		}
	}
	return err
}

// PolicySetting is one entry of the office's policy allow-list.
type PolicySetting struct {
	Name      string    `json:"name"`
	Allowed   bool      `json:"allowed"`
	ChangedBy string    `json:"changed_by,omitempty"`
	ChangedAt time.Time `json:"changed_at"`
}

// PolicySettings returns the office's policy allow-list, by name.
func (s *Store) PolicySettings(ctx context.Context) ([]PolicySetting, error) {
	rows, _ := s.pool.Query(ctx, `SELECT name, allowed, changed_by, changed_at FROM office_policies ORDER BY name`)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PolicySetting])
}

// PolicyAllowed reports whether registration may use the named policy in this office.
func (s *Store) PolicyAllowed(ctx context.Context, name string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT allowed FROM office_policies WHERE name = $1`, name).Scan(&ok)
	if errNoRows(err) {
		return false, nil
	}
	return ok, err
}

// SetPolicyAllowed allows or forbids a policy for registration.
func (s *Store) SetPolicyAllowed(ctx context.Context, name string, allowed bool, by string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO office_policies (name, allowed, changed_by, changed_at)
			VALUES ($1, $2, $3, now())
			ON CONFLICT (name) DO UPDATE SET allowed = $2, changed_by = $3, changed_at = now()`,
			name, allowed, by); err != nil {
			return err
		}
		return audit(ctx, tx, by, "policy.set", name, map[string]any{"allowed": allowed})
	})
}

// ReissueQueryCodeAudited reissues a case's query code and records who did it.
func (s *Store) ReissueQueryCodeAudited(ctx context.Context, caseNo, by string) (string, error) {
	code, err := s.ReissueQueryCode(ctx, caseNo)
	if err != nil {
		return "", err
	}
	return code, audit(ctx, s.pool, by, "query_code.reissue", caseNo, nil)
}

// SealPlaintext seals the personal data written before sealing existed: identity numbers,
// phones and query codes stored plain, in cases, petitioners and repeat submissions. It is
// idempotent (sealed values are left alone) and returns how many rows it changed.
func (s *Store) SealPlaintext(ctx context.Context) (int, error) {
	x, err := s.sealer()
	if err != nil {
		return 0, err
	}
	n := 0
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT case_no, position, id_number, phone FROM petitioners
			WHERE (id_number <> '' AND id_number NOT LIKE 'sealed:%') OR (phone <> '' AND phone NOT LIKE 'sealed:%')`)
		type pet struct {
			caseNo    string
			pos       int
			id, phone string
		}
		pets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pet, error) {
			var p pet
			return p, r.Scan(&p.caseNo, &p.pos, &p.id, &p.phone)
		})
		if err != nil {
			return err
		}
		for _, p := range pets {
			id, err := x.Open(p.id)
			if err != nil {
				return err
			}
			phone, err := x.Open(p.phone)
			if err != nil {
				return err
			}
			sp, idHash, phoneHash, err := sealPetitioner(x, Petitioner{IDNumber: id, Phone: phone})
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE petitioners SET id_number = $3, phone = $4,
				id_number_hash = $5, phone_hash = $6 WHERE case_no = $1 AND position = $2`,
				p.caseNo, p.pos, sp.IDNumber, sp.Phone, idHash, phoneHash); err != nil {
				return err
			}
			n++
		}
		rows, _ = tx.Query(ctx, `SELECT case_no, query_code FROM cases
			WHERE query_code <> '' AND query_code NOT LIKE 'sealed:%'`)
		codes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
			var c [2]string
			return c, r.Scan(&c[0], &c[1])
		})
		if err != nil {
			return err
		}
		for _, c := range codes {
			sealed, err := x.Seal(c[1])
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE cases SET query_code = $2 WHERE case_no = $1`, c[0], sealed); err != nil {
				return err
			}
			n++
		}
		rows, _ = tx.Query(ctx, `SELECT id, petitioners FROM repeat_submissions
			WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(petitioners) p
				WHERE (COALESCE(p->>'id_number', '') NOT IN ('') AND p->>'id_number' NOT LIKE 'sealed:%')
				   OR (COALESCE(p->>'phone', '') NOT IN ('') AND p->>'phone' NOT LIKE 'sealed:%'))`)
		subs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct {
			id   int64
			pets []Petitioner
		}, error) {
			var v struct {
				id   int64
				pets []Petitioner
			}
			return v, r.Scan(&v.id, &v.pets)
		})
		if err != nil {
			return err
		}
		for _, sub := range subs {
			for i, p := range sub.pets {
				if err := openPetitioner(x, &p); err != nil {
					return err
				}
				if sub.pets[i], _, _, err = sealPetitioner(x, p); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE repeat_submissions SET petitioners = $2 WHERE id = $1`, sub.id, sub.pets); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
