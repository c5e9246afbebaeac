package api

import (
	"testing"

	"github.com/petitions/petitions/internal/pgtest"
)

// Most API tests need no database (helpers_test.go); those of the register's answers (lists,
// exports, look-ups, the ledger) run against a real, throwaway PostgreSQL (pgServer).
func TestMain(m *testing.M) { pgtest.Main(m) }
