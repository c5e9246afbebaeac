// Package console is the staff console: server-rendered pages in 简体中文 (English as a switch)
// for clerks, handlers, unit leaders, supervisors and reviewers, plus the petitioner's query page.
//
// The console is a client of the JSON API and nothing else: every page is rendered from the
// answers of /api/v1 endpoints called in-process with the reader's own session cookie, and
// every form becomes the API call a script would make (with the reader's CSRF token, an
// Idempotency-Key from the form and If-Match from the case read). So the console sees exactly
// what the API lets this reader see, and can do exactly what the workflow's validators allow:
// there is no second copy of a business rule here, and no database or Temporal access.
//
// Browser libraries (htmx for small progressive enhancements, Apache ECharts for the statistics
// page) are vendored from npm by `make vendor-assets` and embedded; nothing is fetched at run time.
package console

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/petitions/petitions/internal/calendar"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Config is what the console needs.
type Config struct {
	// API is the JSON API's handler (api.Server.Handler), called in-process.
	API http.Handler
	// Office is the petition office's name, printed on notices and receipts.
	Office string
	// Zone is the office's time zone: every instant is shown in it.
	Zone *time.Location
	// TemporalUI is the Temporal Web UI's base URL (e.g. http://127.0.0.1:8233); supervisors get
	// a link to each case's workflow there. Empty: no link.
	TemporalUI string
	// Namespace is the Temporal namespace of the cases (for the Web UI link).
	Namespace string
	// SingleSignOn shows the "sign in with the office account" link (OIDC configured).
	SingleSignOn bool
	Logger       *slog.Logger
}

// Console serves the pages.
type Console struct {
	cfg   Config
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New parses the templates and sets up the routes.
func New(cfg Config) (*Console, error) {
	if cfg.API == nil {
		return nil, errors.New("console: no API handler")
	}
	if cfg.Zone == nil {
		cfg.Zone = calendar.Location()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Office == "" {
		cfg.Office = "信访局"
	}
	c := &Console{cfg: cfg, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	if err := c.parse(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Pages carry personal data: never cached, never framed, scripts only from here.
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/assets/") {
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	}
	c.mux.ServeHTTP(w, r)
}

func (c *Console) routes() {
	m := c.mux
	assets, _ := fs.Sub(assetFS, "assets")
	files := http.StripPrefix("/assets/", http.FileServerFS(assets))
	m.Handle("GET /assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
	m.HandleFunc("GET /{$}", c.staff(c.home))
	m.HandleFunc("GET /sign-in", c.signInPage)
	m.HandleFunc("POST /sign-in", c.signIn)
	m.HandleFunc("POST /sign-out", c.signOut)
	m.HandleFunc("GET /lang/{lang}", c.switchLang)

	// Lists and search (list.go).
	m.HandleFunc("GET /cases", c.staff(c.listPage))
	m.HandleFunc("GET /cases/export/{format}", c.staff(c.listExport))
	// Registration (register.go).
	m.HandleFunc("GET /register", c.staff(c.registerPage))
	m.HandleFunc("POST /register", c.staff(c.registerSubmit))
	m.HandleFunc("GET /register/suggestion", c.staff(c.registerSuggestion))
	m.HandleFunc("GET /register/lookup", c.staff(c.registerLookup))
	// The case file and its actions (casefile.go), notices (notices.go).
	m.HandleFunc("GET /cases/{no}", c.staff(c.casePage))
	m.HandleFunc("POST /cases/{no}/actions/{action}", c.staff(c.caseAction))
	m.HandleFunc("GET /cases/{no}/notices/{kind}", c.staff(c.noticePage))
	// Statistics (stats.go).
	m.HandleFunc("GET /stats", c.staff(c.statsPage))
	m.HandleFunc("GET /stats/ledger/{format}", c.staff(c.ledgerDownload))
	// Monthly dispute screening (screening.go) and early warnings (warnings.go).
	m.HandleFunc("GET /screening", c.staff(c.screeningPage))
	m.HandleFunc("POST /screening/{month}/reports", c.staff(c.screeningFile))
	m.HandleFunc("GET /screening/{month}/ledger/{format}", c.staff(c.screeningLedger))
	m.HandleFunc("POST /screening/disputes/{id}/case", c.staff(c.screeningCase))
	m.HandleFunc("GET /warnings", c.staff(c.warningsPage))
	// Leader reception days, appointments and the reception record (reception.go).
	m.HandleFunc("GET /reception", c.staff(c.receptionPage))
	m.HandleFunc("POST /reception/days", c.staff(c.receptionPublish))
	m.HandleFunc("GET /reception/{id}", c.staff(c.receptionDayPage))
	m.HandleFunc("POST /reception/{id}/cancel", c.staff(c.receptionCancel))
	m.HandleFunc("POST /reception/{id}/appointments", c.staff(c.receptionBook))
	m.HandleFunc("POST /reception/{id}/appointments/{aid}/receive", c.staff(c.receptionReceive))
	m.HandleFunc("POST /reception/{id}/appointments/{aid}/no-show", c.staff(c.receptionNoShow))
	m.HandleFunc("GET /reception/record", c.staff(c.receptionRecord))
	m.HandleFunc("GET /reception/record/export/{format}", c.staff(c.receptionRecordExport))
	// The petitioner's own page (public.go): case number and query code, no staff sign-in.
	m.HandleFunc("GET /query", c.publicPage)
	m.HandleFunc("POST /query", c.publicPage)
	m.HandleFunc("POST /query/actions/{action}", c.publicAction)
}

// parse reads layout.html plus each page's template; a page template defines "title" and
// "content" (and may define "head" for extra scripts).
func (c *Console) parse() error {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		files := []string{"templates/layout.html", n}
		partials, _ := fs.Glob(templateFS, "templates/_*.html")
		files = append(files, partials...)
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return fmt.Errorf("console template %s: %w", n, err)
		}
		c.pages[base] = t
	}
	return nil
}
