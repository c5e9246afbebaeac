package register

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RepeatSubmission is one repeat petition linked to an open case.
type RepeatSubmission struct {
	Channel      string       `json:"channel"`
	Content      string       `json:"content,omitempty"`
	Location     string       `json:"location,omitempty"`
	Petitioners  []Petitioner `json:"petitioners"`
	Attachments  []Attachment `json:"attachments"`
	ReceivedAt   time.Time    `json:"received_at"`
	RegisteredAt time.Time    `json:"registered_at"`
	RegisteredBy string       `json:"registered_by,omitempty"`
}

// AddRepeatSubmission keeps a repeat petition on the case it was linked to. With an
// idempotency key a retried submission is stored once.
func (s *Store) AddRepeatSubmission(ctx context.Context, caseNo string, nc NewCase) error {
	var key *string
	if nc.IdempotencyKey != "" {
		key = &nc.IdempotencyKey
	}
	if nc.RegisteredAt.IsZero() {
		nc.RegisteredAt = time.Now()
	}
	if nc.ReceivedAt.IsZero() {
		nc.ReceivedAt = nc.RegisteredAt
	}
	x, err := s.sealer()
	if err != nil {
		return err
	}
	petitioners := make([]Petitioner, len(nc.Petitioners))
	for i, p := range nc.Petitioners {
		if petitioners[i], _, _, err = sealPetitioner(x, p); err != nil {
			return fmt.Errorf("seal repeat submission's petitioner: %w", err)
		}
	}
	attachments := nc.Attachments
	if attachments == nil {
		attachments = []Attachment{}
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO repeat_submissions (case_no, channel, content, location,
			petitioners, attachments, received_at, registered_at, registered_by, idempotency_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (idempotency_key) DO NOTHING`,
		caseNo, nc.Channel, nc.Content, nc.Location, petitioners, attachments,
		nc.ReceivedAt, nc.RegisteredAt, nc.RegisteredBy, key)
	if err != nil {
		return fmt.Errorf("store repeat submission on %s: %w", caseNo, err)
	}
	return nil
}

// RepeatSubmissions lists the repeat petitions linked to a case, oldest first.
func (s *Store) RepeatSubmissions(ctx context.Context, caseNo string) ([]RepeatSubmission, error) {
	rows, _ := s.pool.Query(ctx, `SELECT channel, content, location, petitioners, attachments,
			received_at, registered_at, registered_by
		FROM repeat_submissions WHERE case_no = $1 ORDER BY received_at, id`, caseNo)
	subs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[RepeatSubmission])
	if err != nil {
		return nil, fmt.Errorf("repeat submissions of %s: %w", caseNo, err)
	}
	x, err := s.sealer()
	if err != nil {
		return nil, err
	}
	for i := range subs {
		for j := range subs[i].Petitioners {
			if err := openPetitioner(x, &subs[i].Petitioners[j]); err != nil {
				return nil, fmt.Errorf("repeat submissions of %s: %w", caseNo, err)
			}
		}
	}
	return subs, nil
}
