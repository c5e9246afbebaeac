package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// The console calls the JSON API in-process, as the reader: the request carries the reader's
// cookies (their session), their address (rate limits) and, on unsafe methods, their CSRF token
// (which the console checked against the form first). Nothing the API would refuse a script is
// possible here.

// apiResult is an API answer.
type apiResult struct {
	Status int
	Header http.Header
	Body   []byte
}

// apiError is an API refusal as the API words it (api/errors.go: {"error", "fields"}).
type apiError struct {
	Status  int               `json:"-"`
	Message string            `json:"error"`
	Fields  map[string]string `json:"fields"`
}

func (e *apiError) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for k, v := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", k, v)
	}
	return b.String()
}

// OK reports a 2xx answer.
func (a apiResult) OK() bool { return a.Status >= 200 && a.Status < 300 }

// decode reads a 2xx answer into v, or returns the refusal as *apiError.
func (a apiResult) decode(v any) error {
	if !a.OK() {
		return a.err()
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(a.Body, v); err != nil {
		return fmt.Errorf("the API answered something the console cannot read: %w", err)
	}
	return nil
}

func (a apiResult) err() *apiError {
	e := &apiError{Status: a.Status}
	if json.Unmarshal(a.Body, e) != nil || e.Message == "" {
		e.Message = strings.TrimSpace(string(a.Body))
		if e.Message == "" {
			e.Message = http.StatusText(a.Status)
		}
	}
	return e
}

// recorder is the in-process ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// call makes one API request as the reader of r. body (if not nil) is sent as JSON; hdr adds
// headers (Idempotency-Key, If-Match).
func (c *Console) call(r *http.Request, method, path string, q url.Values, body any, hdr http.Header) apiResult {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return apiResult{Status: http.StatusBadRequest, Body: []byte(`{"error":"` + err.Error() + `"}`)}
		}
		rd = bytes.NewReader(b)
	}
	target := path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(r.Context(), method, target, rd)
	if err != nil {
		return apiResult{Status: http.StatusBadRequest, Body: []byte(`{"error":"bad request"}`)}
	}
	req.RemoteAddr = r.RemoteAddr
	req.Host = r.Host
	if v := r.Header.Get("Cookie"); v != "" {
		req.Header.Set("Cookie", v)
	}
	for _, h := range []string{"X-Request-ID", "X-Forwarded-For", "User-Agent"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("X-CSRF-Token", csrfCookie(r))
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := &recorder{header: http.Header{}}
	c.cfg.API.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return apiResult{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()}
}

// get is call with GET.
func (c *Console) get(r *http.Request, path string, q url.Values) apiResult {
	return c.call(r, http.MethodGet, path, q, nil, nil)
}

const (
	cookieCSRF = "petitions_csrf" // set by the API at sign-in; scripts and forms echo it
	cookieLang = "petitions_lang"
)

func csrfCookie(r *http.Request) string {
	if ck, err := r.Cookie(cookieCSRF); err == nil {
		return ck.Value
	}
	return ""
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
