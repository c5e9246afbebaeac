package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/warning"
)

// Warnings: the fakes know no warnings (a case without any).
func (offlineRegister) Warnings(context.Context, string) (register.CaseWarnings, error) {
	return register.CaseWarnings{Warnings: []register.Warning{}}, nil
}

func TestGroupPetitionSizeIsTheWarningRulesOne(t *testing.T) {
	if groupPetitionSize != warning.GroupPetitionSize {
		t.Fatal("two definitions of a group petition")
	}
}

func TestRegistrationLodgedLevel(t *testing.T) {
	s := nilServer()
	for _, bad := range []any{"galaxy", "District", 3} {
		m := validPetition()
		m["lodged_level"] = bad
		w, body := do(t, s, http.MethodPost, "/api/v1/petitions", m)
		fields, _ := body["fields"].(map[string]any)
		if w.Code != http.StatusBadRequest || fields["lodged_level"] == nil {
			t.Errorf("lodged_level %v: %d %v, want 400 naming lodged_level", bad, w.Code, body)
		}
	}
	m := validPetition()
	m["lodged_level"] = " city "
	r := petitionRequest{}
	b, _ := json.Marshal(m)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	nc, err := s.validate(&r, "")
	if err != nil || nc.LodgedLevel != warning.LevelCity {
		t.Errorf("validate: %q %v", nc.LodgedLevel, err)
	}
}

func TestListWarningFilter(t *testing.T) {
	s := nilServer()
	w, body := do(t, s, http.MethodGet, "/api/v1/petitions?warning=weather", nil)
	fields, _ := body["fields"].(map[string]any)
	if w.Code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(fields["warning"]), "group") {
		t.Errorf("warning=weather: %d %v", w.Code, body)
	}
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodGet, "/api/v1/petitions?warning=skip_level", nil)
	lf, _, err := listFilter(c)
	if err != nil || lf.Warning != warning.RuleSkipLevel {
		t.Errorf("warning=skip_level: %+v %v", lf.Warning, err)
	}
}
