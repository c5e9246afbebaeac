package register_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/petitions/petitions/internal/pgtest"
	"github.com/petitions/petitions/internal/register"
)

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t, pgtest.NewDatabase(t))
	all, err := register.Migrations()
	if err != nil || len(all) < 2 {
		t.Fatalf("Migrations() = %v, %v", all, err)
	}
	applied, err := register.Migrate(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if want := versions(all); !slices.Equal(applied, want) || want[0] != "0001_init" {
		t.Errorf("first Migrate applied %v, want %v", applied, want)
	}
	applied, err = register.Migrate(ctx, pool)
	if err != nil || len(applied) != 0 {
		t.Errorf("second Migrate = %v, %v; want nothing applied", applied, err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(all) {
		t.Errorf("schema_migrations rows = %d, %v; want %d", n, err, len(all))
	}
}

// Two processes starting together: the advisory lock lets exactly one apply each file.
func TestMigrateConcurrently(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const n = 4
	var wg sync.WaitGroup
	results := make([][]string, n)
	errs := make([]error, n)
	for i := range n {
		pool := newPool(t, url) // a pool per "process"
		wg.Go(func() { results[i], errs[i] = register.Migrate(context.Background(), pool) })
	}
	wg.Wait()
	var total []string
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("migrator %d: %v", i, errs[i])
		}
		total = append(total, results[i]...)
	}
	slices.Sort(total)
	all, err := register.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if want := versions(all); !slices.Equal(total, want) {
		t.Errorf("applied across migrators = %v, want each once: %v", total, want)
	}
}

// versions are the migrations' names, in order.
func versions(ms []register.Migration) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Version
	}
	return out
}
