package register

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// LookupLimit is the most cases PetitionerCases returns by default.
const LookupLimit = 20

// PetitionerQuery asks for the cases of one person, by ID number and/or phone.
type PetitionerQuery struct {
	// IDNumber and Phone are matched normalised, by keyed hash (never the plain values); at
	// least one is needed, or nothing matches.
	IDNumber string
	Phone    string
	// Scope limits the cases to a reader's (nil: every case), and ExcludeAccusations leaves
	// out accusations (检举控告), for readers who may not see who accused.
	Scope              *Scope
	ExcludeAccusations bool
	// Limit bounds the answer (LookupLimit when zero).
	Limit int
}

// PetitionerCases returns the cases with a petitioner of the query's ID number or phone,
// newest registration first, without content, location, query code or petitioners. It answers
// "has this person petitioned before?" at registration.
func (s *Store) PetitionerCases(ctx context.Context, q PetitionerQuery) ([]Case, error) {
	x, err := s.sealer()
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = LookupLimit
	}
	if normalizeIDNumber(q.IDNumber) == "" && normalizePhone(q.Phone) == "" {
		return []Case{}, nil
	}
	sub, args := petitionersOf(x, "", q.IDNumber, q.Phone)
	where := []string{"case_no IN (" + sub + ")"}
	if q.ExcludeAccusations {
		where = append(where, "category <> 'accusation'")
	}
	if q.Scope != nil {
		// A person's few cases: the scope's two branches may be ORed here.
		cond, involved := scopeCondition(q.Scope, args)
		if involved != "" {
			cond = "(" + cond + " OR " + involved + ")"
		}
		where = append(where, cond)
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+exportColumns+" FROM cases WHERE "+strings.Join(where, " AND ")+
		fmt.Sprintf(" ORDER BY registered_at DESC, case_no DESC LIMIT %d", limit), args)
	cases, err := pgx.CollectRows(rows, collectCase)
	if err != nil {
		return nil, fmt.Errorf("cases of a petitioner: %w", err)
	}
	if cases == nil {
		cases = []Case{}
	}
	return cases, nil
}
