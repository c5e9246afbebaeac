package console

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/petitions/petitions/internal/labels"
)

// view is what every template gets as its root ($): the reader, the language, the CSRF token
// for forms, a flash message, and the page's own Data. Templates call its methods for words
// ($.T "key"), labels ($.Label "stage" .Stage) and dates ($.Date .ReceivedAt).
type view struct {
	c      *Console
	r      *http.Request
	Lang   labels.Lang
	Me     *staffMember
	CSRF   string
	Flash  *flash
	Office string
	Title  string
	Now    time.Time
	// Nav marks the navigation entry of this page.
	Nav  string
	Data any

	// The directory, read once per page when a template asks for a name.
	unitNames, staffNames map[string]string
}

type flash struct {
	Kind string // "ok" or "error"
	Text string
}

func (c *Console) newView(r *http.Request, me *staffMember) *view {
	return &view{c: c, r: r, Lang: langOf(r), Me: me, CSRF: csrfCookie(r), Office: c.cfg.Office, Now: time.Now().In(c.cfg.Zone)}
}

// langOf: Chinese unless the reader switched to English.
func langOf(r *http.Request) labels.Lang {
	if ck, err := r.Cookie(cookieLang); err == nil && ck.Value == string(labels.English) {
		return labels.English
	}
	return labels.Chinese
}

// T is a console word in the reader's language (messages*.go).
func (v *view) T(key string) string { return msg(v.Lang, key) }

// Tf is T with fmt arguments.
func (v *view) Tf(key string, args ...any) string { return fmt.Sprintf(msg(v.Lang, key), args...) }

// Label is a stored code's label (internal/labels).
func (v *view) Label(kind, code string) string {
	if code == "" {
		return ""
	}
	return labels.Of(v.Lang, kind, code)
}

// Date is a day in the office zone: 2026年3月12日, or 12 Mar 2026 in English.
func (v *view) Date(t any) string {
	tt, ok := instant(t)
	if !ok {
		return ""
	}
	tt = tt.In(v.c.cfg.Zone)
	if v.Lang == labels.English {
		return tt.Format("2 Jan 2006")
	}
	return fmt.Sprintf("%d年%d月%d日", tt.Year(), int(tt.Month()), tt.Day())
}

// DateTime is Date with the time of day.
func (v *view) DateTime(t any) string {
	tt, ok := instant(t)
	if !ok {
		return ""
	}
	return v.Date(tt) + " " + tt.In(v.c.cfg.Zone).Format("15:04")
}

// Weekday is the day of the week of t.
func (v *view) Weekday(t any) string {
	tt, ok := instant(t)
	if !ok {
		return ""
	}
	d := tt.In(v.c.cfg.Zone).Weekday()
	if v.Lang == labels.English {
		return d.String()[:3]
	}
	return "周" + []string{"日", "一", "二", "三", "四", "五", "六"}[d]
}

// DateInput is t as an <input type=date> value.
func (v *view) DateInput(t any) string {
	tt, ok := instant(t)
	if !ok {
		return ""
	}
	return tt.In(v.c.cfg.Zone).Format(time.DateOnly)
}

// Past reports whether t has passed.
func (v *view) Past(t any) bool {
	tt, ok := instant(t)
	return ok && tt.Before(v.Now)
}

// DaysLeft is the whole calendar days from today to t's day (negative when past).
func (v *view) DaysLeft(t any) int {
	tt, ok := instant(t)
	if !ok {
		return 0
	}
	day := func(x time.Time) time.Time {
		x = x.In(v.c.cfg.Zone)
		return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC)
	}
	return int(day(tt).Sub(day(v.Now)).Hours() / 24)
}

func instant(t any) (time.Time, bool) {
	switch x := t.(type) {
	case time.Time:
		return x, !x.IsZero()
	case *time.Time:
		if x == nil {
			return time.Time{}, false
		}
		return *x, !x.IsZero()
	case string:
		tt, err := time.Parse(time.RFC3339, x)
		return tt, err == nil
	}
	return time.Time{}, false
}

// Can reports whether the reader's role is one of roles (for showing links; the API decides).
func (v *view) Can(roles ...string) bool {
	if v.Me == nil {
		return false
	}
	for _, r := range roles {
		if v.Me.Role == r {
			return true
		}
	}
	return false
}

// Query is the current URL's query with one parameter set (or removed when value is empty).
func (v *view) Query(name, value string) string {
	q := v.r.URL.Query()
	if value == "" {
		q.Del(name)
	} else {
		q.Set(name, value)
	}
	return q.Encode()
}

// Param is the current URL's query parameter.
func (v *view) Param(name string) string { return v.r.URL.Query().Get(name) }

// Path is the current URL's path.
func (v *view) Path() string { return v.r.URL.Path }

// Back is the current URL (path and query), for "come back here" links.
func (v *view) Back() string { return v.r.URL.RequestURI() }

// UnitName is a unit's name from the directory (GET /api/v1/units); the code when unknown.
func (v *view) UnitName(code string) string {
	if code == "" {
		return ""
	}
	if v.unitNames == nil {
		v.unitNames = map[string]string{}
		var ans struct {
			Units []unit `json:"units"`
		}
		if v.c.get(v.r, "/api/v1/units", nil).decode(&ans) == nil {
			for _, u := range ans.Units {
				v.unitNames[u.Code] = u.Name
			}
		}
	}
	if n := v.unitNames[code]; n != "" {
		return n
	}
	return code
}

// StaffName is a staff member's name from the directory (GET /api/v1/staff); the ID when unknown.
func (v *view) StaffName(id string) string {
	if id == "" {
		return ""
	}
	if v.staffNames == nil {
		v.staffNames = map[string]string{}
		var ans struct {
			Staff []struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"staff"`
		}
		if v.c.get(v.r, "/api/v1/staff", nil).decode(&ans) == nil {
			for _, s := range ans.Staff {
				v.staffNames[s.ID] = s.Name
			}
		}
	}
	if n := v.staffNames[id]; n != "" {
		return n
	}
	return id
}

// funcs are the few helpers that need no reader.
var funcs = template.FuncMap{
	"pathEscape":  url.PathEscape,
	"queryEscape": url.QueryEscape,
	"percent": func(f float64) string {
		return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
	},
	"join": strings.Join,
	// isYes and isNo read a yes-or-no that may be missing (*bool): both false when it is.
	"isYes": func(b *bool) bool { return b != nil && *b },
	"isNo":  func(b *bool) bool { return b != nil && !*b },
	"add":   func(a, b int) int { return a + b },
	"seq": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"contains": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
}

// render writes a page with the layout.
func (c *Console) render(w http.ResponseWriter, status int, page string, v *view) {
	t, ok := c.pages[page]
	if !ok {
		http.Error(w, "no page "+page, http.StatusInternalServerError)
		return
	}
	if v.Flash == nil {
		v.Flash = takeFlash(w, v.r)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		c.cfg.Logger.ErrorContext(v.r.Context(), "console page failed", "page", page, "error", err)
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fragment writes one named template of a page without the layout (htmx partials).
func (c *Console) fragment(w http.ResponseWriter, page, name string, v *view) {
	t, ok := c.pages[page]
	if !ok {
		http.Error(w, "no page "+page, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		c.cfg.Logger.ErrorContext(v.r.Context(), "console fragment failed", "page", page, "name", name, "error", err)
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

const cookieFlash = "petitions_flash"

// setFlash leaves a message for the next page (after a redirect).
func setFlash(w http.ResponseWriter, kind, text string) {
	http.SetCookie(w, &http.Cookie{Name: cookieFlash, Value: kind + ":" + base64.RawURLEncoding.EncodeToString([]byte(text)),
		Path: "/", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	ck, err := r.Cookie(cookieFlash)
	if err != nil || ck.Value == "" {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: cookieFlash, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	kind, enc, ok := strings.Cut(ck.Value, ":")
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || err != nil {
		return nil
	}
	return &flash{Kind: kind, Text: string(b)}
}

// problem renders an API refusal (or any error) as a page with the right status.
func (c *Console) problem(w http.ResponseWriter, v *view, err error) {
	status := http.StatusBadGateway
	text := err.Error()
	if ae, ok := err.(*apiError); ok {
		status = ae.Status
		text = ae.Error()
	}
	v.Title = v.T("error.title")
	v.Data = map[string]any{"Status": status, "Text": text}
	c.render(w, status, "problem", v)
}

// checkForm checks the form's CSRF token against the cookie (double submit) and parses it.
func checkForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return &apiError{Status: http.StatusBadRequest, Message: err.Error()}
	}
	want := csrfCookie(r)
	if want == "" || r.PostForm.Get("csrf") != want {
		return &apiError{Status: http.StatusForbidden, Message: "the form is out of date or came from elsewhere: reload the page and try again"}
	}
	return nil
}
