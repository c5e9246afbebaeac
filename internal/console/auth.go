package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/petitions/petitions/internal/labels"
)

// staffMember is the signed-in person as GET /api/v1/auth/me answers.
type staffMember struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	Unit        string   `json:"unit"`
	Permissions []string `json:"-"`
}

// staff wraps a page that needs a signed-in staff member: the API says who it is (or that the
// session ended, and the reader is sent to sign in, after a silent refresh when possible).
func (c *Console) staff(page func(http.ResponseWriter, *http.Request, *view)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		res := c.get(r, "/api/v1/auth/me", nil)
		if res.Status == http.StatusUnauthorized {
			c.needSignIn(w, r)
			return
		}
		var me struct {
			Staff       staffMember `json:"staff"`
			Permissions []string    `json:"permissions"`
		}
		if err := res.decode(&me); err != nil {
			c.problem(w, c.newView(r, nil), err)
			return
		}
		me.Staff.Permissions = me.Permissions
		page(w, r, c.newView(r, &me.Staff))
	}
}

// needSignIn: with a session whose access token ran out (the CSRF cookie outlives it), a page
// refreshes it with the API's refresh endpoint and comes back; otherwise to the sign-in form.
func (c *Console) needSignIn(w http.ResponseWriter, r *http.Request) {
	next := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		next = "/"
	}
	if csrfCookie(r) != "" && r.URL.Query().Get("refreshed") == "" {
		v := c.newView(r, nil)
		v.Title = v.T("signin.refreshing")
		v.Data = map[string]any{"Next": next}
		c.render(w, http.StatusUnauthorized, "refresh", v)
		return
	}
	http.Redirect(w, r, "/sign-in?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// safeNext keeps redirects on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	v := c.newView(r, nil)
	v.Title = v.T("signin.title")
	v.Data = map[string]any{"Next": safeNext(r.URL.Query().Get("next")), "StaffID": "", "Error": "", "SSO": c.cfg.SingleSignOn}
	c.render(w, http.StatusOK, "signin", v)
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	v := c.newView(r, nil)
	v.Title = v.T("signin.title")
	if err := r.ParseForm(); err != nil {
		c.problem(w, v, &apiError{Status: http.StatusBadRequest, Message: err.Error()})
		return
	}
	staffID, next := strings.TrimSpace(r.PostForm.Get("staff_id")), safeNext(r.PostForm.Get("next"))
	res := c.call(r, http.MethodPost, "/api/v1/auth/sign-in", nil, map[string]string{
		"staff_id": staffID, "password": r.PostForm.Get("password"), "session": "cookie",
	}, nil)
	if !res.OK() {
		msgText := v.T("signin.refused")
		if res.Status == http.StatusTooManyRequests {
			msgText = v.T("signin.locked") + " " + res.err().Message
		} else if res.Status >= 500 {
			msgText = v.T("error.unavailable") + " " + res.err().Message
		} else if res.Status == http.StatusBadRequest {
			msgText = res.err().Error()
		}
		v.Data = map[string]any{"Next": next, "StaffID": staffID, "Error": msgText, "SSO": c.cfg.SingleSignOn}
		c.render(w, res.Status, "signin", v)
		return
	}
	for _, ck := range res.Header.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", ck)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	if err := checkForm(r); err != nil {
		http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
		return
	}
	res := c.call(r, http.MethodPost, "/api/v1/auth/sign-out", nil, nil, nil)
	for _, ck := range res.Header.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", ck)
	}
	http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
}

// switchLang sets the display language and goes back.
func (c *Console) switchLang(w http.ResponseWriter, r *http.Request) {
	lang := labels.Chinese
	if r.PathValue("lang") == string(labels.English) {
		lang = labels.English
	}
	http.SetCookie(w, &http.Cookie{Name: cookieLang, Value: string(lang), Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(r.URL.Query().Get("back")), http.StatusSeeOther)
}
