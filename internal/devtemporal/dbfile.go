package devtemporal

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The server's database holds every petition's history: readable by its owner only.
const (
	dataDirMode  fs.FileMode = 0o700
	dataFileMode fs.FileMode = 0o600
)

// sqliteCompanions are the files SQLite keeps beside a database; it creates them with the
// database file's mode, so a 0600 database gets 0600 companions.
var sqliteCompanions = []string{"-wal", "-shm", "-journal"}

// prepareDatabaseFile makes sure the SQLite database file exists with mode 0600 before the
// server opens it, creating its folder 0700 when missing (an existing folder keeps its mode:
// it may be shared, or not ours). An existing database, and companion files left by an
// earlier run, readable or writable by group or others are set to 0600. fresh reports an
// empty database (no pages in the file nor in its write-ahead log), which needs its schema.
func prepareDatabaseFile(path string) (fresh bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), dataDirMode); err != nil {
		return false, fmt.Errorf("temporal database folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, dataFileMode)
	if err != nil {
		return false, fmt.Errorf("temporal database file: %w", err)
	}
	info, err := f.Stat()
	f.Close()
	if err != nil {
		return false, fmt.Errorf("temporal database file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return false, fmt.Errorf("temporal database file %s is not a regular file", path)
	}
	fresh = info.Size() == 0
	for _, p := range append([]string{path}, companions(path)...) {
		size, err := restrictMode(p)
		if err != nil {
			return false, fmt.Errorf("temporal database file: %w", err)
		}
		if size > 0 && p == path+"-wal" {
			fresh = false
		}
	}
	return fresh, nil
}

func companions(path string) []string {
	out := make([]string, len(sqliteCompanions))
	for i, suffix := range sqliteCompanions {
		out[i] = path + suffix
	}
	return out
}

// restrictMode sets an existing file that group or others may use to 0600 and returns its
// size; a missing file is fine (size 0).
func restrictMode(path string) (size int64, err error) {
	info, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if info.Mode().IsRegular() && info.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, dataFileMode); err != nil {
			return 0, err
		}
	}
	return info.Size(), nil
}
