package sealing

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// sealer is the register.Sealer interface Fields must satisfy.
type sealer interface {
	Seal(string) (string, error)
	Open(string) (string, error)
	Index(string) string
}

var _ sealer = (*Fields)(nil)

func TestFieldsRoundTrip(t *testing.T) {
	f := NewFields(TestKeyring())
	for _, plain := range []string{"张三", zhang.IDNumber, "北京市东城区 1 号", "a:b:c", "sealed:not really"} {
		s, err := f.Seal(plain)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(s, "sealed:v1:test:") || !IsSealed(s) || strings.Contains(s, plain) {
			t.Errorf("Seal(%q) = %q", plain, s)
		}
		if strings.ContainsAny(s[len("sealed:v1:test:"):], "+/=") {
			t.Errorf("Seal(%q) = %q is not unpadded base64url", plain, s)
		}
		got, err := f.Open(s)
		if err != nil || got != plain {
			t.Errorf("Open(Seal(%q)) = %q, %v", plain, got, err)
		}
		if again, _ := f.Seal(plain); again == s {
			t.Errorf("two seals of %q are equal", plain)
		}
	}
	if s, err := f.Seal(""); s != "" || err != nil {
		t.Errorf("Seal(\"\") = %q, %v", s, err)
	}
}

func TestFieldsOpenPlain(t *testing.T) {
	f := NewFields(TestKeyring())
	for _, plain := range []string{"", "张三", "Sealed: no", "sealed"} {
		if got, err := f.Open(plain); got != plain || err != nil {
			t.Errorf("Open(%q) = %q, %v", plain, got, err)
		}
	}
}

func TestFieldsRotation(t *testing.T) {
	k := TestKeyring()
	old, _ := NewFields(k).Seal(zhang.Name)
	if err := k.Rotate("next"); err != nil {
		t.Fatal(err)
	}
	f := NewFields(k)
	if got, err := f.Open(old); got != zhang.Name || err != nil {
		t.Errorf("old value after rotation: %q, %v", got, err)
	}
	if s, _ := f.Seal(zhang.Name); !strings.HasPrefix(s, "sealed:v1:next:") {
		t.Errorf("sealed after rotation: %q", s)
	}
	if NewFields(TestKeyring()).Index(zhang.IDNumber) != f.Index(zhang.IDNumber) {
		t.Error("index changed with rotation")
	}
}

func TestFieldsRefuse(t *testing.T) {
	f := NewFields(TestKeyring())
	s, _ := f.Seal(zhang.IDNumber)
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, "sealed:v1:test:"))
	raw[len(raw)-1] ^= 1
	for name, bad := range map[string]string{
		"tampered":    "sealed:v1:test:" + base64.RawURLEncoding.EncodeToString(raw),
		"other key":   strings.Replace(s, ":test:", ":test-old:", 1),
		"unknown key": strings.Replace(s, ":test:", ":k1999:", 1),
		"no key ID":   "sealed:v1:abc",
		"bad base64":  "sealed:v1:test:!!!",
		"short":       "sealed:v1:test:AAAA",
		"v2":          strings.Replace(s, ":v1:", ":v2:", 1),
	} {
		if got, err := f.Open(bad); err == nil {
			t.Errorf("%s: Open(%q) = %q, want error", name, bad, got)
		}
	}
	if _, err := f.Open(strings.Replace(s, ":test:", ":k1999:", 1)); err == nil || !strings.Contains(err.Error(), "not in the keyring") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestFieldsKeyIsNotPayloadKey(t *testing.T) {
	k := TestKeyring()
	f := NewFields(k)
	if bytes.Equal(f.index, k.index) || bytes.Equal(subkey(k.keys["test"], fieldKeyInfo), k.keys["test"]) {
		t.Fatal("subkeys equal their keys")
	}
	// A field sealed value is not openable by the payload AEAD of the same key.
	s, _ := f.Seal("x")
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, "sealed:v1:test:"))
	if _, err := newAEAD(k.keys["test"]).Open(nil, nil, raw, nil); err == nil {
		t.Fatal("payload key opens a field")
	}
}

func TestIndex(t *testing.T) {
	f := NewFields(TestKeyring())
	a, b := f.Index(zhang.IDNumber), f.Index(zhang.IDNumber)
	if a != b || len(a) != 64 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("Index = %q, %q", a, b)
	}
	if f.Index("110101199003071235") == a {
		t.Error("different values share an index")
	}
	if f.Index("") != "" {
		t.Error(`Index("") != ""`)
	}
	other := TestKeyring()
	other.index = bytes.Repeat([]byte{7}, KeySize)
	if NewFields(other).Index(zhang.IDNumber) == a {
		t.Error("index does not depend on the index key")
	}
}
