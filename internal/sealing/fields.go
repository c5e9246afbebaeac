package sealing

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// HKDF info strings: the keys that seal register fields and compute blind indexes are
// derived from, and differ from, the keys that seal Temporal payloads.
const (
	fieldKeyInfo = "petitions register field"
	indexKeyInfo = "petitions blind index"
)

const (
	sealedPrefix   = "sealed:"
	sealedV1Prefix = sealedPrefix + "v1:"
)

// Fields seals single text values for the PostgreSQL register and computes blind
// indexes for looking them up. It is safe for concurrent use.
//
// A sealed value reads "sealed:v1:<keyID>:<base64url(nonce||ciphertext)>", unpadded
// base64url, AES-256-GCM under a per-key HKDF-SHA256 subkey.
type Fields struct {
	active string
	aeads  map[string]cipher.AEAD
	index  []byte
}

// NewFields returns Fields sealing with the active key of k and opening with any key of k.
func NewFields(k *Keyring) *Fields {
	f := &Fields{active: k.active, aeads: make(map[string]cipher.AEAD, len(k.keys)), index: subkey(k.index, indexKeyInfo)}
	for id, key := range k.keys {
		f.aeads[id] = newAEAD(subkey(key, fieldKeyInfo))
	}
	return f
}

// Seal returns plain sealed with the active key; "" stays "".
func (f *Fields) Seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	ct := f.aeads[f.active].Seal(nil, nil, []byte(plain), nil)
	return sealedV1Prefix + f.active + ":" + base64.RawURLEncoding.EncodeToString(ct), nil
}

// Open returns the plain text of a value made by Seal. A value that is not sealed (see
// IsSealed), such as a row written before sealing existed, is returned as it is.
func (f *Fields) Open(s string) (string, error) {
	if !IsSealed(s) {
		return s, nil
	}
	rest, ok := strings.CutPrefix(s, sealedV1Prefix)
	if !ok {
		return "", fmt.Errorf("sealing: unknown sealed format %.16q", s)
	}
	id, data, ok := strings.Cut(rest, ":")
	if !ok {
		return "", fmt.Errorf("sealing: malformed sealed value: no key ID")
	}
	aead, ok := f.aeads[id]
	if !ok {
		return "", fmt.Errorf("sealing: value sealed with key %q, which is not in the keyring", id)
	}
	ct, err := base64.RawURLEncoding.DecodeString(data)
	if err != nil {
		return "", fmt.Errorf("sealing: malformed sealed value: %w", err)
	}
	plain, err := aead.Open(nil, nil, ct, nil)
	if err != nil {
		return "", fmt.Errorf("sealing: open value sealed with key %q: %w", id, err)
	}
	return string(plain), nil
}

// Index returns the blind index of an already normalised value: hex HMAC-SHA256 under a
// subkey of the index key, so equal values have equal indexes and nothing else can be
// learnt from them without the key. "" stays "".
func (f *Fields) Index(normalised string) string {
	if normalised == "" {
		return ""
	}
	mac := hmac.New(sha256.New, f.index)
	mac.Write([]byte(normalised))
	return hex.EncodeToString(mac.Sum(nil))
}

// IsSealed reports whether s is a value made by Fields.Seal (of any format version).
func IsSealed(s string) bool { return strings.HasPrefix(s, sealedPrefix) }

// subkey derives a KeySize key for the purpose named by info.
func subkey(key []byte, info string) []byte {
	sub, err := hkdf.Key(sha256.New, key, nil, info, KeySize)
	if err != nil {
		panic(err) // only for lengths beyond 255 hashes
	}
	return sub
}
