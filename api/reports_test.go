package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"gopkg.in/yaml.v3"

	"github.com/petitions/petitions/internal/labels"
	"github.com/petitions/petitions/internal/register"
)

// The monthly ledger's figures of the routines are columns of every form, and each unit's
// topics of the month are the JSON rows' topics and the Excel file's second sheet; a topic
// that looks like a formula stays text there.
func TestMonthlyLedgerRoutinesAndTopics(t *testing.T) {
	s, store := pgServer(t)
	fixture(t, store)
	w, body := do(t, s, http.MethodGet, "/api/v1/reports/monthly?month=2026-05", nil, "Authorization", asClerk)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %v", w.Code, body)
	}
	var want [][]string
	var construction map[string]any
	for _, r := range body["rows"].([]any) {
		row := r.(map[string]any)
		if row["unit"] == "construction" {
			construction = row
		}
		topics, ok := row["topics"].([]any)
		if !ok {
			t.Fatalf("row without topics: %v", row)
		}
		for i, tp := range topics {
			tf := tp.(map[string]any)
			cells := []string{row["month"].(string), row["unit"].(string), row["unit_name"].(string), strconv.Itoa(i + 1),
				tf["topic"].(string), labels.Zh(labels.KindCategory, tf["category"].(string))}
			for _, k := range []string{"received", "closed", "overdue_now", "evaluated", "satisfied", "satisfaction_rate"} {
				cells = append(cells, strconv.FormatFloat(tf[k].(float64), 'f', -1, 64))
			}
			want = append(want, cells)
		}
	}
	// construction's two cases, each its own topic, received in May; health's one.
	if len(want) != 3 || len(construction["topics"].([]any)) != 2 {
		t.Fatalf("topics %q", want)
	}
	// Every column of the CSV is a field of the JSON rows (the forms' equality is
	// TestMonthlyReportForms').
	for _, h := range csvHeader {
		if _, ok := construction[h[strings.LastIndex(h, " ")+1:]]; !ok {
			t.Errorf("column %q is not a field of the JSON rows", h)
		}
	}
	for _, k := range []string{"skip_level", "joint_proposed", "call_back_rate", "assigned", "screening_on_time_rate", "repeat_submissions"} {
		if construction[k] != float64(0) {
			t.Errorf("%s = %v", k, construction[k])
		}
	}

	w, _ = do(t, s, http.MethodGet, "/api/v1/reports/monthly.xlsx?month=2026-05", nil, "Authorization", asClerk)
	if w.Code != http.StatusOK {
		t.Fatalf("xlsx: %d", w.Code)
	}
	f, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); !slices.Equal(sheets, []string{"月度台账", "热点事项"}) {
		t.Errorf("sheets %v", sheets)
	}
	got, err := f.GetRows("热点事项")
	if err != nil || len(got) != len(want)+1 || !slices.Equal(got[0], topicHeader) {
		t.Fatalf("topic sheet %v %q", err, got)
	}
	for i, r := range want {
		if !slices.Equal(got[i+1], r) {
			t.Errorf("topic row %d: %q, want %q", i+1, got[i+1], r)
		}
	}
	for i := range want {
		cell, _ := excelize.CoordinatesToCellName(5, i+2)
		if v, _ := f.GetCellValue("热点事项", cell); strings.HasPrefix(v, "=") {
			if formula, _ := f.GetCellFormula("热点事项", cell); formula != "" {
				t.Errorf("topic %q became the formula %q", v, formula)
			}
		}
	}

	// A unit's leader: their unit's row and topics only.
	_, body = do(t, s, http.MethodGet, "/api/v1/reports/monthly?month=2026-05", nil, "Authorization", asOtherLeader)
	if rows := body["rows"].([]any); len(rows) != 1 || len(rows[0].(map[string]any)["topics"].([]any)) != 1 {
		t.Errorf("health's leader: %v", body)
	}
}

// The OpenAPI schemas of the statistics and the ledger's rows describe every field the API
// answers, and nothing else.
func TestOpenAPIStatsSchemas(t *testing.T) {
	type schema struct {
		Ref        string         `yaml:"$ref"`
		Properties map[string]any `yaml:"properties"`
		AllOf      []schema       `yaml:"allOf"`
	}
	var doc struct {
		Components struct {
			Schemas map[string]schema `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	// properties are a schema's own and those of the schemas it is all of.
	var properties func(s schema) map[string]any
	properties = func(s schema) map[string]any {
		if s.Ref != "" {
			return properties(doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")])
		}
		out := maps.Clone(s.Properties)
		if out == nil {
			out = map[string]any{}
		}
		for _, part := range s.AllOf {
			maps.Copy(out, properties(part))
		}
		return out
	}
	for name, v := range map[string]any{
		"Stats":         register.Stats{Unit: "health", WarningsByRule: map[string]int{"group": 1}}, // omitempty fields set
		"MonthlyRow":    register.MonthlyRow{},
		"TopicFigures":  register.TopicFigures{},
		"UnitScreening": register.UnitScreening{},
	} {
		b, _ := json.Marshal(v)
		var fields map[string]any
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		documented := properties(doc.Components.Schemas[name])
		for k := range fields {
			if _, ok := documented[k]; !ok {
				t.Errorf("%s: field %s is not in openapi.yaml", name, k)
			}
		}
		for k := range documented {
			if _, ok := fields[k]; !ok {
				t.Errorf("%s: openapi.yaml describes %s, which the API does not answer (%v)", name, k, slices.Sorted(maps.Keys(fields)))
			}
		}
	}
}
