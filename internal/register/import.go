package register

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/petitions/petitions/workflows"
)

// Back-entry of running cases (补录): an office switching to the system brings its open cases
// with their real dates. Each becomes a register row like a registration (case number, query
// code, petitioners sealed, repeat detection) that also keeps the case's number in the earlier
// system (external_ref, migration 0009).

// ImportedSeq is the seq of an imported row whose workflow has not reported yet. A registered
// row waits at seq 0, where the worker's reconciler starts its workflow as a fresh
// registration after a minute; an imported case started that way would lose its stage and
// dates, so its row waits at ImportedSeq instead, which the reconciler does not look at.
// Importing the same file again starts the workflow of such a row (the import reports it as
// "existing"), from the row as the file gives it. The workflow's first transition replaces
// ImportedSeq as it replaces 0.
const ImportedSeq int64 = -2

// importLockClass namespaces the transaction locks taken per external reference.
const importLockClass int32 = 0x7069

// MaxExternalRef bounds an external reference (characters).
const MaxExternalRef = 100

// Import records a case brought in from the office's earlier system under its external
// reference ref. With a reference already imported it returns that case and created=false (the
// petition must be the same: channel, category, topic and content, else ErrConflict). A case of
// the same petitioner and matter that is open or terminated gives *RepeatError, as Register
// does. nc.IdempotencyKey is not used: the reference is the import's key.
func (s *Store) Import(ctx context.Context, nc NewCase, ref string) (c Case, created bool, err error) {
	ref = strings.TrimSpace(ref)
	if ref == "" || len([]rune(ref)) > MaxExternalRef {
		return Case{}, false, fmt.Errorf("%w: an external reference of 1 to %d characters is required", ErrInvalidInput, MaxExternalRef)
	}
	if nc.RegisteredAt.IsZero() {
		nc.RegisteredAt = time.Now()
	}
	if nc.ReceivedAt.IsZero() {
		nc.ReceivedAt = nc.RegisteredAt
	}
	if nc.Attachments == nil {
		nc.Attachments = []Attachment{}
	}
	x, _, sealedCode, err := s.sealedQueryCode()
	if err != nil {
		return Case{}, false, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Two imports of one file racing each other: the second waits, then finds the first.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", importLockClass, ref); err != nil {
			return err
		}
		existing, err := s.loadCase(ctx, tx, "external_ref = $1", ref)
		switch {
		case err == nil:
			if !sameRequest(existing, nc) {
				return fmt.Errorf("%w: external reference %q was imported as case %s with a different petition (channel, category, topic or content)",
					ErrConflict, ref, existing.CaseNo)
			}
			c = existing
			return nil
		case !errors.Is(err, ErrNotFound):
			return err
		}
		if err := lockIdentities(ctx, tx, x, nc.Petitioners, nc.Topic); err != nil {
			return err
		}
		if prior, found, err := s.findRepeat(ctx, tx, nc.Petitioners, nc.Category, nc.Topic); err != nil {
			return err
		} else if found && (prior.Stage == string(workflows.StageTerminated) || !workflows.Stage(prior.Stage).Final()) {
			return &RepeatError{Case: prior}
		}
		caseNo, err := nextCaseNo(ctx, tx, nc.RegisteredAt)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cases (case_no, query_code, channel, category, topic,
				content, location, group_size, policy, suggested_unit, registered_by, received_at,
				registered_at, attachments, external_ref, stage, seq)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'registered', $16)`,
			caseNo, sealedCode, nc.Channel, nc.Category, nc.Topic, nc.Content, nc.Location, nc.GroupSize,
			nc.Policy, nc.SuggestedUnit, nc.RegisteredBy, nc.ReceivedAt, nc.RegisteredAt,
			nc.Attachments, ref, ImportedSeq); err != nil {
			return fmt.Errorf("insert imported case: %w", err)
		}
		if err := insertPetitioners(ctx, tx, x, caseNo, nc.Petitioners); err != nil {
			return err
		}
		c, err = s.loadCase(ctx, tx, "case_no = $1", caseNo)
		created = true
		return err
	})
	if err != nil {
		return Case{}, false, err
	}
	return c, created, nil
}

// CaseByExternalRef returns the case imported under an external reference, or ErrNotFound.
func (s *Store) CaseByExternalRef(ctx context.Context, ref string) (Case, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return Case{}, ErrNotFound
	}
	return s.loadCase(ctx, s.pool, "external_ref = $1", ref)
}
