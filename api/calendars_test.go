package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/petitions/petitions/internal/calendar"
)

// A year whose notice is stored answers it, "provisional": false; a year without one answers
// the provisional calendar (the statutory holidays alone), "provisional": true; a year before
// the amended 办法 (2025) without a notice is not found.
func TestGetCalendarProvisional(t *testing.T) {
	s, store := pgServer(t)
	if err := store.PutCalendarYear(context.Background(), calendar.Builtin()[1]); err != nil {
		t.Fatal(err)
	}
	w, body := do(t, s, http.MethodGet, "/api/v1/calendars/2026", nil, "Authorization", asClerk)
	if hs, _ := body["holidays"].([]any); w.Code != http.StatusOK || body["provisional"] != false || len(hs) != 33 {
		t.Errorf("2026: status %d provisional %v, %d holidays", w.Code, body["provisional"], len(hs))
	}

	w, body = do(t, s, http.MethodGet, "/api/v1/calendars/2027", nil, "Authorization", asClerk)
	hs, _ := body["holidays"].([]any)
	wd, _ := body["workdays"].([]any)
	if w.Code != http.StatusOK || body["provisional"] != true || len(hs) != 13 || wd == nil || len(wd) != 0 {
		t.Fatalf("2027: status %d %v", w.Code, body)
	}
	if first, _ := hs[0].(map[string]any); first["date"] != "2027-01-01" || first["name"] != "元旦 New Year's Day" {
		t.Errorf("2027: first holiday %v", first)
	}
	if src, _ := body["source"].(string); !strings.Contains(src, "provisional until the State Council's notice for 2027 is imported") {
		t.Errorf("2027: source %q", src)
	}

	if w, body = do(t, s, http.MethodGet, "/api/v1/calendars/2024", nil, "Authorization", asClerk); w.Code != http.StatusNotFound {
		t.Errorf("2024: status %d %v, want 404", w.Code, body)
	}
}

// The provisional calendar is not a notice: a PUT of it (as the GET answered it) is refused.
func TestPutCalendarProvisionalRefused(t *testing.T) {
	y, _ := calendar.ProvisionalYear(2027)
	w, body := do(t, nilServer(), http.MethodPut, "/api/v1/calendars/2027", y, "Authorization", bearer("admin"))
	if msg, _ := body["error"].(string); w.Code != http.StatusBadRequest || !strings.Contains(msg, "provisional") {
		t.Errorf("status %d %v, want 400 about a provisional calendar", w.Code, body)
	}
}
