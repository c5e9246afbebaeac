package console

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
)

func itoa(n int) string { return strconv.Itoa(n) }

// newKey is a fresh Idempotency-Key for a form: a form rendered once and submitted twice (a
// double click, a retry after a timeout) is one action at the API.
func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "console-" + hex.EncodeToString(b)
}

// ifMatch is the If-Match header for an action on the case as read at seq.
func ifMatch(seq int64) string { return `"` + strconv.FormatInt(seq, 10) + `"` }

// actionHeaders are the headers of a staff action from a form: its key and the case's seq.
func actionHeaders(key string, seq int64) http.Header {
	return http.Header{"Idempotency-Key": {key}, "If-Match": {ifMatch(seq)}}
}

// passThrough sends an API answer (a download) to the browser as it is.
func passThrough(w http.ResponseWriter, res apiResult) {
	for _, h := range []string{"Content-Type", "Content-Disposition", "Cache-Control", "Content-Length"} {
		if v := res.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(res.Status)
	_, _ = io.Copy(w, bytesReader(res.Body))
}
