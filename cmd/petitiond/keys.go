package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/petitions/petitions/internal/sealing"
)

const keysUsage = `Usage:
  petitiond keys generate FILE          make the office's keys (mode 0600); refuses to overwrite
  petitiond keys rotate FILE NEW-ID     add a key and make it the one that encrypts

The keys seal personal data: every Temporal payload (AES-256-GCM, key ID in the payload's
metadata) and the register's ID numbers, phones and query codes. Keep FILE in a secret store
and give the same file to every API and worker process (PETITIONS_KEY_FILE, or its JSON in
PETITIONS_KEYS). Old keys keep decrypting after a rotation: never delete a key while histories
or rows sealed with it remain. After a rotation restart every API and worker process with the
new file together: a process still on the old file cannot read what the new key sealed.
`

// keysCmd makes and rotates the office's keys. Losing the file loses every sealed case: keep
// a copy where the office keeps its other secrets.
func keysCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprint(stdout, keysUsage)
		if len(args) == 0 {
			return errors.New("keys: give generate or rotate")
		}
		return nil
	}
	switch {
	case args[0] == "generate" && len(args) == 2:
		path := args[1]
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("keys generate: %s exists; it may hold keys that cases still need (use keys rotate)", path)
		}
		k, err := sealing.GenerateKeyring("k1")
		if err != nil {
			return err
		}
		if err := k.WriteFile(path); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (mode 0600, active key %s); set PETITIONS_KEY_FILE=%s for every API and worker\n", path, k.ActiveID(), path)
		return nil
	case args[0] == "rotate" && len(args) == 3:
		path, id := args[1], args[2]
		k, err := sealing.LoadKeyring(path, "")
		if err != nil {
			return err
		}
		if err := k.Rotate(id); err != nil {
			return err
		}
		if err := k.WriteFile(path); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added key %s to %s and made it active; keys: %v\n", id, path, k.IDs())
		return nil
	}
	fmt.Fprint(stdout, keysUsage)
	return fmt.Errorf("keys: unknown arguments %q", args)
}
