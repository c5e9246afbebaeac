package sealing

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
)

// The environment variables an operator sets to hand the keyring to the processes. Reading
// them is the caller's business (LoadKeyring takes their values); they are named here so
// that error messages and commands agree.
const (
	// KeyFileEnv names the path of a keyring file made by `petitiond keys generate`.
	KeyFileEnv = "PETITIONS_KEY_FILE"
	// KeysEnv holds the keyring JSON itself, for platforms that inject secrets as
	// environment variables.
	KeysEnv = "PETITIONS_KEYS"
)

// KeySize is the length in bytes of every key in a keyring (AES-256, HMAC-SHA256).
const KeySize = 32

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// A Keyring holds the AES-256 keys that seal personal data, each under an ID that is
// stored next to what it sealed. The active key seals new data; every key opens what it
// sealed, so after Rotate old histories and rows stay readable as long as their key is
// kept. The index key feeds the blind indexes of Fields.Index and never rotates: a new
// index key would make every stored index unfindable.
//
// Make one with LoadKeyring, GenerateKeyring or TestKeyring; the zero Keyring holds no
// keys. Codecs and Fields copy what they need when they are made, so a Keyring changed by
// Rotate afterwards does not affect them. A Keyring is not safe for concurrent Rotate.
//
// Its JSON form is
//
//	{"active":"k2026a","keys":{"k2026a":"<base64>","k2025":"<base64>"},"index_key":"<base64>"}
//
// with every key 32 bytes in standard base64.
type Keyring struct {
	active string
	keys   map[string][]byte
	index  []byte
}

type keyringJSON struct {
	Active   string            `json:"active"`
	Keys     map[string]string `json:"keys"`
	IndexKey string            `json:"index_key"`
}

// LoadKeyring reads the keyring from the file at path, or else from env, the keyring JSON
// itself (the value of $PETITIONS_KEYS, not its name). Exactly one of them must be set.
// A file that its group or others may read is refused.
func LoadKeyring(path string, env string) (*Keyring, error) {
	switch {
	case path != "" && env != "":
		return nil, fmt.Errorf("sealing: both %s and %s are set; keep only one of them", KeyFileEnv, KeysEnv)
	case path == "" && env == "":
		return nil, fmt.Errorf("sealing: no keys: set %s to a file made by `petitiond keys generate`, or %s to its JSON", KeyFileEnv, KeysEnv)
	case env != "":
		k, err := parseKeyring([]byte(env))
		if err != nil {
			return nil, fmt.Errorf("sealing: %s: %w", KeysEnv, err)
		}
		return k, nil
	}
	data, err := readPrivateFile(path)
	if err != nil {
		return nil, fmt.Errorf("sealing: key file: %w", err)
	}
	k, err := parseKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("sealing: key file %s: %w", path, err)
	}
	return k, nil
}

// readPrivateFile reads path after checking, on the open file, that only its owner may
// read it.
func readPrivateFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s may be read by group or others (mode %04o); run `chmod 600 %s`", path, perm, path)
	}
	return io.ReadAll(f)
}

// GenerateKeyring returns a new keyring whose only key, id, is active, with a new index
// key. All keys come from crypto/rand.
func GenerateKeyring(id string) (*Keyring, error) {
	if err := checkKeyID(id); err != nil {
		return nil, fmt.Errorf("sealing: %w", err)
	}
	return &Keyring{
		active: id,
		keys:   map[string][]byte{id: newKey()},
		index:  newKey(),
	}, nil
}

// Rotate adds a new random key newID and makes it the active one. Older keys stay, so
// what they sealed can still be opened. Write the keyring (WriteFile), roll it out to
// every worker, client and codec server, and restart them; a key seals at most 2^32
// values before it must be rotated (random GCM nonces).
func (k *Keyring) Rotate(newID string) error {
	if err := checkKeyID(newID); err != nil {
		return fmt.Errorf("sealing: %w", err)
	}
	if _, ok := k.keys[newID]; ok {
		return fmt.Errorf("sealing: key %q already exists; choose a new ID", newID)
	}
	k.keys[newID] = newKey()
	k.active = newID
	return nil
}

// ActiveID returns the ID of the key that seals.
func (k *Keyring) ActiveID() string { return k.active }

// IDs returns the IDs of all keys, sorted.
func (k *Keyring) IDs() []string { return slices.Sorted(maps.Keys(k.keys)) }

// MarshalJSON returns the keyring in its file format. The result is secret.
func (k *Keyring) MarshalJSON() ([]byte, error) {
	j := keyringJSON{Active: k.active, Keys: make(map[string]string, len(k.keys)), IndexKey: b64(k.index)}
	for id, key := range k.keys {
		j.Keys[id] = b64(key)
	}
	return json.MarshalIndent(j, "", "  ")
}

// UnmarshalJSON reads and validates the keyring file format.
func (k *Keyring) UnmarshalJSON(data []byte) error {
	var j keyringJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("not a keyring: %w", err)
	}
	if len(j.Keys) == 0 {
		return errors.New(`no "keys"`)
	}
	keys := make(map[string][]byte, len(j.Keys))
	for id, s := range j.Keys {
		if err := checkKeyID(id); err != nil {
			return err
		}
		key, err := decodeKey(s)
		if err != nil {
			return fmt.Errorf("key %q: %w", id, err)
		}
		keys[id] = key
	}
	if j.Active == "" {
		return errors.New(`no "active" key ID`)
	}
	if _, ok := keys[j.Active]; !ok {
		return fmt.Errorf("active key %q is not among the keys", j.Active)
	}
	index, err := decodeKey(j.IndexKey)
	if err != nil {
		return fmt.Errorf("index_key: %w", err)
	}
	*k = Keyring{active: j.Active, keys: keys, index: index}
	return nil
}

func parseKeyring(data []byte) (*Keyring, error) {
	k := new(Keyring)
	if err := k.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return k, nil
}

// WriteFile writes the keyring to path with mode 0600, atomically: readers see either the
// old file or the new one, never a part.
func (k *Keyring) WriteFile(path string) (err error) {
	data, err := k.MarshalJSON()
	if err != nil {
		return err
	}
	data = append(data, '\n')
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("sealing: write keyring: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("sealing: write keyring %s: %w", path, err)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// TestKeyring returns a fixed keyring for tests: two keys, "test-old" and the active
// "test", and an index key, all derived from constant strings. Everyone can compute
// these keys. It must never be used in production or with real personal data.
func TestKeyring() *Keyring {
	fixed := func(s string) []byte {
		sum := sha256.Sum256([]byte("petitions sealing test key: " + s))
		return sum[:]
	}
	return &Keyring{
		active: "test",
		keys:   map[string][]byte{"test": fixed("test"), "test-old": fixed("test-old")},
		index:  fixed("index"),
	}
}

func checkKeyID(id string) error {
	if !keyIDPattern.MatchString(id) {
		return fmt.Errorf("bad key ID %q: use 1 to 64 characters of A-Z a-z 0-9 . _ -", id)
	}
	return nil
}

func decodeKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not standard base64: %w", err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("%d bytes, want %d", len(key), KeySize)
	}
	return key, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// newKey returns KeySize random bytes. crypto/rand.Read never fails (Go 1.24+).
func newKey() []byte {
	key := make([]byte, KeySize)
	rand.Read(key)
	return key
}
