package sealing

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"go.temporal.io/sdk/converter"
)

// MaxCodecBody is the largest request body CodecHandler accepts.
const MaxCodecBody = 4 << 20

// ErrForbidden is wrapped by an Authorize error for a caller who is known but may not
// decode (403 rather than 401).
var ErrForbidden = errors.New("forbidden")

// CodecServerOptions configures CodecHandler.
type CodecServerOptions struct {
	// Authorize decides whether a request may encode or decode. It runs before the body
	// is read. A nil Authorize refuses everything. Return an error wrapping ErrForbidden
	// for a caller who is authenticated but not allowed. The error's text is sent to the
	// caller.
	Authorize func(r *http.Request) error
	// AllowedOrigins lists the origins, such as "https://temporal.example.cn", of the
	// Temporal Web UIs that may call the handler from a browser (CORS with credentials).
	// There is no wildcard.
	AllowedOrigins []string
	// Namespaces lists the Temporal namespaces whose payloads may be handled, as named by
	// the X-Namespace header the Web UI and CLI send. Empty allows any namespace.
	Namespaces []string
}

// CodecHandler serves Temporal's codec-server protocol for codec: POST <prefix>/encode
// and POST <prefix>/decode with protojson {"payloads":[...]} bodies, for the Temporal
// Web UI ("Codec Server" setting, with "Include cross-origin credentials" or "Pass the
// user access token") and `temporal --codec-endpoint`. Every POST must pass
// opts.Authorize. Decoded payloads are personal data: serve this only over HTTPS.
func CodecHandler(codec converter.PayloadCodec, opts CodecServerOptions) http.Handler {
	origins := make([]string, 0, len(opts.AllowedOrigins))
	for _, o := range opts.AllowedOrigins {
		origins = append(origins, strings.TrimSuffix(o, "/"))
	}
	inner := converter.NewPayloadCodecHTTPHandler(codec)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(origins, origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
		}

		switch r.Method {
		case http.MethodOptions:
			// A preflight carries no credentials, so it is answered without Authorize.
			if h.Get("Access-Control-Allow-Origin") != "" {
				h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization, Caller-Type")
				h.Set("Access-Control-Max-Age", "600")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		case http.MethodPost:
		default:
			h.Set("Allow", "POST, OPTIONS")
			writeError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		h.Set("Cache-Control", "no-store")

		if opts.Authorize == nil {
			writeError(w, http.StatusUnauthorized, "codec server has no authorization configured")
			return
		}
		if err := opts.Authorize(r); err != nil {
			status := http.StatusUnauthorized
			if errors.Is(err, ErrForbidden) {
				status = http.StatusForbidden
			}
			writeError(w, status, err.Error())
			return
		}
		if ns := r.Header.Get("X-Namespace"); len(opts.Namespaces) > 0 && !slices.Contains(opts.Namespaces, ns) {
			writeError(w, http.StatusForbidden, "namespace "+strconv.Quote(ns)+" is not served here")
			return
		}
		if !strings.HasSuffix(r.URL.Path, "/encode") && !strings.HasSuffix(r.URL.Path, "/decode") {
			writeError(w, http.StatusNotFound, "no such endpoint: use /encode or /decode")
			return
		}

		if r.ContentLength > MaxCodecBody {
			writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxCodecBody))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
				return
			}
			writeError(w, http.StatusBadRequest, "cannot read request body")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		inner.ServeHTTP(w, r)
	})
}

// writeError answers {"error": msg} with status.
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
