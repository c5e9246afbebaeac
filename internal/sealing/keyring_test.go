package sealing

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func key32(b byte) string {
	return base64.StdEncoding.EncodeToString(slices.Repeat([]byte{b}, KeySize))
}

func keyringText(t *testing.T, active string, keys map[string]string, index string) string {
	t.Helper()
	b, err := json.Marshal(keyringJSON{Active: active, Keys: keys, IndexKey: index})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, text string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask
		t.Fatal(err)
	}
	return path
}

func TestLoadKeyring(t *testing.T) {
	good := keyringText(t, "k2026a", map[string]string{"k2026a": key32(1), "k2025": key32(2)}, key32(3))

	k, err := LoadKeyring("", good)
	if err != nil {
		t.Fatalf("from env: %v", err)
	}
	if k.ActiveID() != "k2026a" || !slices.Equal(k.IDs(), []string{"k2025", "k2026a"}) {
		t.Errorf("active %q, IDs %v", k.ActiveID(), k.IDs())
	}
	if _, err := LoadKeyring(writeFile(t, good, 0o600), ""); err != nil {
		t.Errorf("from 0600 file: %v", err)
	}
	if _, err := LoadKeyring(writeFile(t, good, 0o400), ""); err != nil {
		t.Errorf("from 0400 file: %v", err)
	}

	for _, tc := range []struct {
		name, path, env, want string
	}{
		{"neither", "", "", "set PETITIONS_KEY_FILE"},
		{"both", writeFile(t, good, 0o600), good, "both"},
		{"group readable", writeFile(t, good, 0o640), "", "chmod 600"},
		{"world readable", writeFile(t, good, 0o604), "", "chmod 600"},
		{"missing file", filepath.Join(t.TempDir(), "none.json"), "", "no such file"},
		{"not JSON", "", "k2026a", "not a keyring"},
		{"unknown field", "", `{"active":"a","keys":{"a":"` + key32(1) + `"},"index_key":"` + key32(1) + `","indexkey":""}`, "unknown field"},
		{"no keys", "", keyringText(t, "a", nil, key32(3)), `no "keys"`},
		{"no active", "", keyringText(t, "", map[string]string{"a": key32(1)}, key32(3)), `no "active"`},
		{"missing active", "", keyringText(t, "b", map[string]string{"a": key32(1)}, key32(3)), `active key "b" is not among`},
		{"short key", "", keyringText(t, "a", map[string]string{"a": base64.StdEncoding.EncodeToString(make([]byte, 16))}, key32(3)), "16 bytes, want 32"},
		{"bad base64", "", keyringText(t, "a", map[string]string{"a": "not base64!"}, key32(3)), "base64"},
		{"no index key", "", keyringText(t, "a", map[string]string{"a": key32(1)}, ""), "index_key: 0 bytes"},
		{"long index key", "", keyringText(t, "a", map[string]string{"a": key32(1)}, base64.StdEncoding.EncodeToString(make([]byte, 33))), "index_key: 33 bytes"},
		{"bad ID", "", keyringText(t, "a b", map[string]string{"a b": key32(1)}, key32(3)), "bad key ID"},
		{"long ID", "", keyringText(t, strings.Repeat("a", 65), map[string]string{strings.Repeat("a", 65): key32(1)}, key32(3)), "bad key ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := LoadKeyring(tc.path, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want error containing %q", k, err, tc.want)
			}
		})
	}
}

func TestGenerateRotateWrite(t *testing.T) {
	k, err := GenerateKeyring("k2026a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateKeyring("bad/id"); err == nil {
		t.Error("GenerateKeyring accepted a bad ID")
	}
	if err := k.Rotate("k2026a"); err == nil {
		t.Error("Rotate reused an existing ID")
	}
	if err := k.Rotate(""); err == nil {
		t.Error("Rotate accepted an empty ID")
	}
	if err := k.Rotate("k2026b"); err != nil {
		t.Fatal(err)
	}
	if k.ActiveID() != "k2026b" || len(k.IDs()) != 2 {
		t.Fatalf("after Rotate: active %q, IDs %v", k.ActiveID(), k.IDs())
	}
	if slices.Equal(k.keys["k2026a"], k.keys["k2026b"]) || slices.Equal(k.keys["k2026a"], k.index) {
		t.Fatal("generated keys are equal")
	}

	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := k.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", info.Mode().Perm())
	}
	back, err := LoadKeyring(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if back.ActiveID() != k.ActiveID() || !slices.Equal(back.keys["k2026a"], k.keys["k2026a"]) || !slices.Equal(back.index, k.index) {
		t.Error("keyring changed through WriteFile and LoadKeyring")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the keyring", len(entries))
	}
}

func TestTestKeyringIsFixed(t *testing.T) {
	a, b := TestKeyring(), TestKeyring()
	ja, _ := a.MarshalJSON()
	jb, _ := b.MarshalJSON()
	if string(ja) != string(jb) {
		t.Fatal("TestKeyring differs between calls")
	}
	if _, err := LoadKeyring("", string(ja)); err != nil {
		t.Fatalf("TestKeyring does not validate: %v", err)
	}
}
