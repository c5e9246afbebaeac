package auth

import "github.com/alexedwards/argon2id"

// Tests hash with the cheapest argon2id parameters: the cost is not what they test.
func init() {
	hashParams = &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// SetHashParams changes the parameters of services created afterwards, to test rehashing.
func SetHashParams(p *argon2id.Params) (restore func()) {
	old := hashParams
	hashParams = p
	return func() { hashParams = old }
}
