package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// warningView is what GET /api/v1/petitions/{no} shows of early warnings.
type warningView struct {
	LodgedLevel string `json:"lodged_level"`
	Warnings    []struct {
		Rule   string `json:"rule"`
		Reason string `json:"reason"`
		Seq    int64  `json:"seq"`
	} `json:"warnings"`
}

func (v warningView) rules() []string {
	var out []string
	for _, w := range v.Warnings {
		out = append(out, w.Rule)
	}
	return out
}

// registerWarned registers a petition with a group size and a lodged level.
func registerWarned(t *testing.T, groupSize int, lodged string) registered {
	t.Helper()
	var r registered
	code := call(t, "POST", "/api/v1/petitions", map[string]any{
		"channel": "visit", "category": "appeal", "topic": fmt.Sprintf("construction wages, group of %d", groupSize),
		"content": "工地拖欠工资，多人来访 wages unpaid", "petitioners": []any{petitioner()},
		"group_size": groupSize, "lodged_level": lodged, "policy": "default",
	}, &r)
	if code != http.StatusCreated {
		t.Fatalf("register: status %d", code)
	}
	return r
}

func caseWarnings(t *testing.T, caseNo string) warningView {
	t.Helper()
	var v warningView
	if code := call(t, "GET", "/api/v1/petitions/"+caseNo, nil, &v); code != http.StatusOK {
		t.Fatalf("get %s: status %d", caseNo, code)
	}
	return v
}

func listed(t *testing.T, query, caseNo string) bool {
	t.Helper()
	var page struct {
		Cases []struct {
			CaseNo string `json:"case_no"`
		} `json:"cases"`
	}
	if code := call(t, "GET", "/api/v1/petitions?limit=500&"+query, nil, &page); code != http.StatusOK {
		t.Fatalf("list %s: status %d", query, code)
	}
	return slices.ContainsFunc(page.Cases, func(c struct {
		CaseNo string `json:"case_no"`
	}) bool {
		return c.CaseNo == caseNo
	})
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// A group petition (5 people) raises its warning at registration: once, on the case, in the
// list filter, in the statistics, and the office's supervisor hears of it once.
func TestWarningGroupPetitionAtRegistration(t *testing.T) {
	r := registerWarned(t, 5, "district")
	wantEvents(t, r.CaseNo, "warning_raised")
	var v warningView
	eventually(t, 20*time.Second, "the group warning in the register", func() bool {
		v = caseWarnings(t, r.CaseNo)
		return slices.Contains(v.rules(), "group")
	})
	if v.LodgedLevel != "district" || count(v.rules(), "skip_level") != 0 {
		t.Errorf("lodged %q, warnings %v: lodged at the competent level is no skip-level petition", v.LodgedLevel, v.rules())
	}
	if w := v.Warnings[slices.Index(v.rules(), "group")]; w.Reason != "group petition of 5 people (5 or more)" || w.Seq != 2 {
		t.Errorf("group warning %+v, want #2 right after registration", w)
	}
	if !listed(t, "warning=group", r.CaseNo) || listed(t, "warning=skip_level", r.CaseNo) {
		t.Error("the list filter warning=group does not find the case alone")
	}

	// A second transition does not raise it again.
	act(t, r.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, http.StatusOK)
	waitRegister(t, r.CaseNo, "handling")
	if types := eventTypes(t, r.CaseNo); count(types, "warning_raised") != len(v.Warnings) {
		t.Errorf("events %v: warnings raised again", types)
	}
	if got := caseWarnings(t, r.CaseNo).rules(); count(got, "group") != 1 {
		t.Errorf("warnings %v", got)
	}

	// The supervisor was told once (the notifier logs each notice with its key).
	key := []byte(`"key":"` + r.CaseNo + "/warning/group/" + supervisor + `"`)
	eventually(t, 20*time.Second, "the warning notice", func() bool { return bytes.Contains(capturedLogs.Bytes(), key) })
	if n := bytes.Count(capturedLogs.Bytes(), key); n != 1 {
		t.Errorf("%d notices %s, want 1", n, key)
	}

	var st struct {
		Warnings       int            `json:"warnings"`
		WarningsByRule map[string]int `json:"warnings_by_rule"`
		GroupPetitions int            `json:"group_petitions"`
	}
	if code := call(t, "GET", "/api/v1/stats", nil, &st); code != http.StatusOK {
		t.Fatalf("stats: %d", code)
	}
	if st.Warnings < 1 || st.WarningsByRule["group"] < 1 || st.GroupPetitions < 1 {
		t.Errorf("stats %+v", st)
	}
}

// Lodged with the city about a district bureau's matter: a skip-level petition (越级访).
func TestWarningSkipLevelPetition(t *testing.T) {
	r := registerWarned(t, 1, "city")
	var v warningView
	eventually(t, 20*time.Second, "the skip-level warning in the register", func() bool {
		v = caseWarnings(t, r.CaseNo)
		return slices.Contains(v.rules(), "skip_level")
	})
	if count(v.rules(), "group") != 0 {
		t.Errorf("warnings %v", v.rules())
	}
	if !listed(t, "warning=skip_level", r.CaseNo) {
		t.Error("warning=skip_level does not list the case")
	}
	// An unknown level is refused with the levels known.
	var bad map[string]any
	code := call(t, "POST", "/api/v1/petitions", map[string]any{
		"channel": "visit", "category": "appeal", "topic": "wages", "content": "x",
		"petitioners": []any{petitioner()}, "lodged_level": "galaxy",
	}, &bad)
	if fields, _ := bad["fields"].(map[string]any); code != http.StatusBadRequest || fields["lodged_level"] == nil {
		t.Errorf("lodged_level galaxy: %d %v", code, bad)
	}
}
