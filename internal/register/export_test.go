package register

import "github.com/jackc/pgx/v5"

// ListQuery is the SQL and arguments List runs for f, for plan tests.
func ListQuery(s *Store, f ListFilter, limit int) (string, pgx.NamedArgs, error) {
	q, err := s.listWhere(f, true)
	if err != nil {
		return "", nil, err
	}
	return listSQL(caseColumns, q, limit), q.args, nil
}
