package sealing

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

const uiOrigin = "https://temporal.petitions.example"

func testHandler() http.Handler {
	return CodecHandler(NewCodec(TestKeyring()), CodecServerOptions{
		Authorize: func(r *http.Request) error {
			switch r.Header.Get("Authorization") {
			case "Bearer good":
				return nil
			case "Bearer clerk":
				return fmt.Errorf("clerks may not read histories: %w", ErrForbidden)
			}
			return errors.New("not signed in")
		},
		AllowedOrigins: []string{uiOrigin + "/"},
		Namespaces:     []string{"petitions"},
	})
}

func request(method, path, origin, auth, body string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Namespace", "petitions")
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestCodecHandlerPreflight(t *testing.T) {
	r := request(http.MethodOptions, "/codec/decode", uiOrigin, "", "")
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace,authorization")
	w := serve(testHandler(), r)
	if w.Code != http.StatusNoContent {
		t.Fatalf("status %d", w.Code)
	}
	for name, want := range map[string]string{
		"Access-Control-Allow-Origin":      uiOrigin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "POST, OPTIONS",
		"Access-Control-Allow-Headers":     "Content-Type, X-Namespace, Authorization, Caller-Type",
		"Vary":                             "Origin",
	} {
		if got := w.Header().Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func TestCodecHandlerRefusedOrigin(t *testing.T) {
	h := testHandler()
	for _, r := range []*http.Request{
		request(http.MethodOptions, "/decode", "https://evil.example", "", ""),
		request(http.MethodPost, "/decode", "https://evil.example", "Bearer good", `{"payloads":[]}`),
		request(http.MethodPost, "/decode", "", "Bearer good", `{"payloads":[]}`),
	} {
		w := serve(h, r)
		for name := range w.Header() {
			if strings.HasPrefix(name, "Access-Control-") {
				t.Errorf("%s from %q: CORS header %s", r.Method, r.Header.Get("Origin"), name)
			}
		}
	}
}

func TestCodecHandlerRefuses(t *testing.T) {
	big := `{"payloads":[{"data":"` + strings.Repeat("A", MaxCodecBody) + `"}]}`
	for _, tc := range []struct {
		name   string
		r      *http.Request
		status int
	}{
		{"no authorization", request(http.MethodPost, "/decode", uiOrigin, "", `{"payloads":[]}`), http.StatusUnauthorized},
		{"bad token", request(http.MethodPost, "/decode", uiOrigin, "Bearer bad", `{"payloads":[]}`), http.StatusUnauthorized},
		{"forbidden", request(http.MethodPost, "/decode", uiOrigin, "Bearer clerk", `{"payloads":[]}`), http.StatusForbidden},
		{"other namespace", func() *http.Request {
			r := request(http.MethodPost, "/decode", uiOrigin, "Bearer good", `{"payloads":[]}`)
			r.Header.Set("X-Namespace", "default")
			return r
		}(), http.StatusForbidden},
		{"GET", request(http.MethodGet, "/decode", uiOrigin, "Bearer good", ""), http.StatusMethodNotAllowed},
		{"other path", request(http.MethodPost, "/keys", uiOrigin, "Bearer good", `{"payloads":[]}`), http.StatusNotFound},
		{"too large", request(http.MethodPost, "/decode", uiOrigin, "Bearer good", big), http.StatusRequestEntityTooLarge},
		{"too large, chunked", func() *http.Request {
			r := request(http.MethodPost, "/decode", uiOrigin, "Bearer good", big)
			r.ContentLength = -1
			return r
		}(), http.StatusRequestEntityTooLarge},
		{"not JSON", request(http.MethodPost, "/decode", uiOrigin, "Bearer good", `payloads`), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(testHandler(), tc.r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status != http.StatusBadRequest && !strings.HasPrefix(w.Body.String(), `{"error":`) {
				t.Errorf("body %q", w.Body)
			}
		})
	}

	nilAuth := CodecHandler(NewCodec(TestKeyring()), CodecServerOptions{AllowedOrigins: []string{uiOrigin}})
	if w := serve(nilAuth, request(http.MethodPost, "/decode", uiOrigin, "Bearer good", `{"payloads":[]}`)); w.Code != http.StatusUnauthorized {
		t.Errorf("nil Authorize: status %d", w.Code)
	}
}

// TestCodecHandlerRoundTrip encodes and decodes through HTTP with the SDK's own remote
// codec, which the Temporal CLI uses for --codec-endpoint.
func TestCodecHandlerRoundTrip(t *testing.T) {
	srv := httptest.NewServer(testHandler())
	defer srv.Close()
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL + "/codec",
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer good")
			r.Header.Set("X-Namespace", "petitions")
			r.Header.Set("Origin", uiOrigin)
			return nil
		},
	})

	plain, _ := converter.GetDefaultDataConverter().ToPayloads(zhang, "信访", 3)
	enc, err := remote.Encode(plain.Payloads)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range enc {
		sealedBy(t, p)
	}
	// What the remote codec sealed, the local one opens, and the reverse.
	local, err := NewCodec(TestKeyring()).Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := remote.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain.Payloads {
		if !proto.Equal(dec[i], plain.Payloads[i]) || !proto.Equal(local[i], plain.Payloads[i]) {
			t.Errorf("payload %d: got %v, want %v", i, dec[i], plain.Payloads[i])
		}
	}

	// Plain payloads and the CORS answer, as the Web UI sees them.
	resp, err := http.DefaultClient.Do(func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, srv.URL+"/decode", strings.NewReader(`{"payloads":[]}`))
		r.Header.Set("Authorization", "Bearer good")
		r.Header.Set("X-Namespace", "petitions")
		r.Header.Set("Origin", uiOrigin)
		return r
	}())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != uiOrigin || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("status %d, headers %v", resp.StatusCode, resp.Header)
	}

	// An unknown key fails clearly through HTTP too.
	other, _ := GenerateKeyring("other")
	foreign, _ := NewCodec(other).Encode(plain.Payloads[:1])
	if _, err := remote.Decode(foreign); err == nil || !strings.Contains(err.Error(), "not in the keyring") {
		t.Errorf("foreign key: %v", err)
	}
}
