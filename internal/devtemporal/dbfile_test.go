package devtemporal

import (
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func TestPrepareDatabaseFileCreatesOwnerOnly(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state", "temporal.db")
	fresh, err := prepareDatabaseFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if !fresh {
		t.Error("a new database is not fresh")
	}
	if m := mode(t, db); m != 0o600 {
		t.Errorf("database mode %o, want 600", m)
	}
	if m := mode(t, filepath.Dir(db)); m != 0o700 {
		t.Errorf("folder mode %o, want 700", m)
	}
	// Again: still fresh (empty), still 0600.
	if fresh, err := prepareDatabaseFile(db); err != nil || !fresh {
		t.Errorf("empty database: fresh %v, err %v", fresh, err)
	}
}

func TestPrepareDatabaseFileNarrowsExisting(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "temporal.db")
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.WriteFile(p, []byte("SQLite format 3\x00"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o644); err != nil { // whatever the umask
			t.Fatal(err)
		}
	}
	fresh, err := prepareDatabaseFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if fresh {
		t.Error("a database with content is fresh")
	}
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if m := mode(t, p); m != 0o600 {
			t.Errorf("%s mode %o, want 600", filepath.Base(p), m)
		}
	}
	if m := mode(t, dir); m != 0o755 {
		t.Errorf("an existing folder changed mode: %o", m)
	}
}

func TestPrepareDatabaseFileWALOnly(t *testing.T) {
	// Pages still in the write-ahead log: not fresh, though the database file is empty.
	db := filepath.Join(t.TempDir(), "temporal.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db+"-wal", []byte("wal"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fresh, err := prepareDatabaseFile(db); err != nil || fresh {
		t.Errorf("fresh %v, err %v; want not fresh", fresh, err)
	}
}

// modeIfExists is a file's permission bits, 0 when it does not exist.
func modeIfExists(path string) fs.FileMode {
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return info.Mode().Perm()
}

// TestSQLiteCompanionsTakeTheDatabaseMode checks, with the server's SQLite driver, what
// prepareDatabaseFile relies on: SQLite creates its write-ahead log and shared-memory files
// with the database file's mode, whatever the umask lets through.
func TestSQLiteCompanionsTakeTheDatabaseMode(t *testing.T) {
	db := filepath.Join(t.TempDir(), "temporal.db")
	if _, err := prepareDatabaseFile(db); err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=rwc&_pragma=journal_mode=wal")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Exec("create table t (x int); insert into t values (1)"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if m := modeIfExists(p); m != 0o600 {
			t.Errorf("%s mode %o, want 600", filepath.Base(p), m)
		}
	}
}
