package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/petitions/petitions/workflows"
)

// The bureau's routines as list filters: joint investigation (联查) and assignment (交办)
// statuses and the involved unit reach the register as they are; other values are a 400
// naming the parameter and its values, and reach no register.
func TestListRoutineFilters(t *testing.T) {
	env := newFuzzEnv()
	for _, tc := range []struct {
		query            string
		joint, assign, u string
	}{
		{"joint=proposed", workflows.JointProposed, "", ""},
		{"joint=approved&involved_unit=land", workflows.JointApproved, "", "land"},
		{"joint=declined", workflows.JointDeclined, "", ""},
		{"joint=concluded&count=true", workflows.JointConcluded, "", ""},
		{"assignment=awaiting_report&handler=handler.construction", "", workflows.AssignmentAwaiting, ""},
		{"assignment=reported", "", workflows.AssignmentReported, ""},
		{"assignment=accepted&format=csv", "", workflows.AssignmentAccepted, ""},
		{"involved_unit=health", "", "", "health"},
	} {
		env.reset()
		req := httptest.NewRequest(http.MethodGet, "/api/v1/petitions?"+tc.query, nil)
		req.Header.Set("Authorization", bearer("supervisor"))
		w := serveWithin(t, env.s, req)
		if w.Code != http.StatusOK {
			t.Errorf("%s: %d %s", tc.query, w.Code, w.Body)
			continue
		}
		lf := env.reg.filter
		if lf == nil || lf.JointStatus != tc.joint || lf.AssignmentStatus != tc.assign || lf.InvolvedUnit != tc.u {
			t.Errorf("%s: the register was asked for %+v", tc.query, lf)
		}
	}

	s := nilServer()
	for _, tc := range []struct{ query, param, mentions string }{
		{"joint=pending", "joint", "proposed"},
		{"joint=PROPOSED", "joint", "concluded"},
		{"assignment=awaiting", "assignment", "awaiting_report"},
		{"assignment=overdue", "assignment", "reported"},
		{"involved_unit=%00", "involved_unit", "unit code"},
		{"involved_unit=" + strings.Repeat("u", 65), "involved_unit", "unit code"},
		{"involved=health", "involved", "involved_unit"},
	} {
		w, body := do(t, s, http.MethodGet, "/api/v1/petitions?"+tc.query, nil)
		fields, _ := body["fields"].(map[string]any)
		if w.Code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(fields[tc.param]), tc.mentions) {
			t.Errorf("%s: %d %v, want 400 naming %s with %q", tc.query, w.Code, body, tc.param, tc.mentions)
		}
	}

	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodGet, "/api/v1/petitions?joint=proposed&assignment=reported&involved_unit=construction", nil)
	lf, _, err := listFilter(c)
	if err != nil || lf.JointStatus != "proposed" || lf.AssignmentStatus != "reported" || lf.InvolvedUnit != "construction" {
		t.Errorf("listFilter: %+v %v", lf, err)
	}
}
