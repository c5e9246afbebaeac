package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// screeningRegister is the register of these tests: a directory and one round (2026-05)
// with three reports; it records the units each read was scoped to.
type screeningRegister struct {
	offlineRegister
	scoped [][]string
}

func (*screeningRegister) Units(context.Context) ([]register.Unit, error) {
	return []register.Unit{
		{Code: "district", Name: "区人民政府"},
		{Code: "petition_office", Name: "区信访局", Parent: "district"},
		{Code: "construction", Name: "区住房和城乡建设局", Parent: "district"},
		{Code: "health", Name: "区卫生健康局", Parent: "district"},
		{Code: "land", Name: "区自然资源局", Parent: "district"},
	}, nil
}

var screeningFiledAt = time.Date(2026, 5, 10, 9, 30, 0, 0, shanghai)

func (r *screeningRegister) reports(units []string) []register.ScreeningReport {
	all := []register.ScreeningReport{
		{Month: "2026-05", Unit: "construction", Status: workflows.ReportFiled, FiledAt: &screeningFiledAt, FiledBy: "handler.construction", FiledByName: "刘洋", Disputes: 1},
		{Month: "2026-05", Unit: "health", Status: workflows.ReportZero, FiledAt: &screeningFiledAt, FiledBy: "leader.health", FiledByName: "杨帆"},
		{Month: "2026-05", Unit: "land", Status: workflows.ReportPending, Overdue: true, EscalationLevel: 2},
	}
	return slices.DeleteFunc(all, func(x register.ScreeningReport) bool { return units != nil && !slices.Contains(units, x.Unit) })
}

func (r *screeningRegister) ScreeningRounds(_ context.Context, units []string) ([]register.ScreeningRound, error) {
	r.scoped = append(r.scoped, units)
	return []register.ScreeningRound{{Month: "2026-05", Units: len(r.reports(units))}}, nil
}

func (r *screeningRegister) ScreeningRoundOf(_ context.Context, month string, units []string) (register.ScreeningRound, error) {
	r.scoped = append(r.scoped, units)
	if month != "2026-05" {
		return register.ScreeningRound{}, register.ErrNotFound
	}
	return register.ScreeningRound{Month: month, Units: len(r.reports(units))}, nil
}

func (r *screeningRegister) ScreeningReports(_ context.Context, _ string, units []string) ([]register.ScreeningReport, error) {
	return r.reports(units), nil
}

func (r *screeningRegister) ScreeningDisputes(_ context.Context, _ string, units []string) ([]register.ScreeningDispute, error) {
	if units != nil && !slices.Contains(units, "construction") {
		return nil, nil
	}
	return []register.ScreeningDispute{{ID: 7, Month: "2026-05", Unit: "construction", Item: 1, Kind: workflows.DisputeKindDispute,
		Summary: "拆迁安置补偿争议", Leader: "陈志强", Plan: "约谈双方", TimeLimit: "2026-06-30"}}, nil
}

func (r *screeningRegister) ScreeningDisputeByID(_ context.Context, id int64) (register.ScreeningDispute, error) {
	if id != 7 {
		return register.ScreeningDispute{}, register.ErrNotFound
	}
	return register.ScreeningDispute{ID: 7, Month: "2026-05", Unit: "construction", Item: 1, CaseNo: "2026-000042"}, nil
}

func (r *screeningRegister) LinkScreeningDispute(context.Context, int64, string, string, time.Time) (register.ScreeningDispute, error) {
	return register.ScreeningDispute{}, errOffline
}

func (r *screeningRegister) ScreeningEvents(context.Context, string, []string) ([]register.ScreeningEvent, error) {
	return nil, nil
}

func screeningServer(reg *screeningRegister) *Server {
	return New(Config{
		Policies: testPolicies, Now: func() time.Time { return fixedNow }, Logger: quietLog,
		Register: reg, Auth: fakeAuth{}, Accounts: fakeAuth{},
	})
}

// bearerOf is a token of role in unit for staff ID id (fakeAuth).
func bearerOf(role, unit, id string) string { return "Bearer test-" + role + "-" + unit + "-" + id }

// The petition office sees every unit's report; a handler only their unit's.
func TestScreeningRoundScope(t *testing.T) {
	reg := &screeningRegister{}
	s := screeningServer(reg)

	w, body := do(t, s, http.MethodGet, "/api/v1/screening/rounds/2026-05", nil, "Authorization", bearer("supervisor"))
	if w.Code != http.StatusOK {
		t.Fatalf("supervisor: %d %v", w.Code, body)
	}
	if reports, _ := body["reports"].([]any); len(reports) != 3 {
		t.Fatalf("supervisor sees %d reports", len(reports))
	}
	late, _ := body["late"].([]any)
	if len(late) != 1 || late[0].(map[string]any)["unit"] != "land" || late[0].(map[string]any)["escalation_level"] != float64(2) {
		t.Errorf("late: %v", late)
	}
	if z, _ := body["zero"].([]any); len(z) != 1 || z[0] != "health" {
		t.Errorf("zero: %v", z)
	}

	w, body = do(t, s, http.MethodGet, "/api/v1/screening/rounds/2026-05", nil,
		"Authorization", bearerOf("handler", "health", "handler.health"))
	if w.Code != http.StatusOK {
		t.Fatalf("handler: %d %v", w.Code, body)
	}
	reports, _ := body["reports"].([]any)
	if len(reports) != 1 || reports[0].(map[string]any)["unit"] != "health" || reports[0].(map[string]any)["status_label"] != "零报告" {
		t.Errorf("handler of health sees %v", reports)
	}
	if d, _ := body["disputes"].([]any); len(d) != 0 {
		t.Errorf("handler of health sees construction's lines: %v", d)
	}
	if got := reg.scoped[len(reg.scoped)-1]; !slices.Equal(got, []string{"health"}) {
		t.Errorf("scoped to %v", got)
	}

	if w, _ := do(t, s, http.MethodGet, "/api/v1/screening/rounds/2026-04", nil, "Authorization", bearer("clerk")); w.Code != http.StatusNotFound {
		t.Errorf("unknown round: %d", w.Code)
	}
	if w, _ := do(t, s, http.MethodGet, "/api/v1/screening/rounds/2026-13", nil, "Authorization", bearer("clerk")); w.Code != http.StatusBadRequest {
		t.Errorf("bad month: %d", w.Code)
	}
	if w, _ := do(t, s, http.MethodGet, "/api/v1/screening/rounds", nil, "Authorization", bearer("reviewer")); w.Code != http.StatusForbidden {
		t.Errorf("reviewer: %d", w.Code)
	}
}

// The ledger has Chinese headers, a row per form line and a row per unit without lines.
func TestScreeningLedgerCSV(t *testing.T) {
	s := screeningServer(&screeningRegister{})
	w, _ := do(t, s, http.MethodGet, "/api/v1/screening/rounds/2026-05/ledger.csv", nil, "Authorization", bearer("clerk"))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %s", w.Code, w.Header().Get("Content-Type"))
	}
	text := strings.TrimPrefix(w.Body.String(), utf8BOM)
	lines := strings.Split(strings.TrimSpace(text), "\r\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "月份,单位,报送情况,报送时间,报送人,是否逾期报送,督办级别,序号,类型,事由,包案领导,化解方案,化解时限") {
		t.Fatalf("ledger:\n%s", text)
	}
	for _, want := range []string{
		"2026-05,区住房和城乡建设局,已报送,2026-05-10 09:30,刘洋,否,0,1,矛盾纠纷,拆迁安置补偿争议,陈志强,约谈双方,2026-06-30,",
		"2026-05,区卫生健康局,零报告,2026-05-10 09:30,杨帆,否,0,",
		"2026-05,区自然资源局,未报送,,,是,2,",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("ledger lacks %q:\n%s", want, text)
		}
	}
	if cd := w.Header().Get("Content-Disposition"); !strings.Contains(cd, "screening-2026-05.csv") {
		t.Errorf("Content-Disposition %q", cd)
	}
	w, _ = do(t, s, http.MethodGet, "/api/v1/screening/rounds/2026-05/ledger.xlsx", nil, "Authorization", bearer("supervisor"))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != mimeXLSX || w.Body.Len() < 1000 {
		t.Fatalf("xlsx: %d %s %d bytes", w.Code, w.Header().Get("Content-Type"), w.Body.Len())
	}
}

// A report is checked before anything reaches the round: its shape, the key, the role.
func TestScreeningReportValidation(t *testing.T) {
	s := screeningServer(&screeningRegister{})
	handler := bearerOf("handler", "construction", "handler.construction")
	for _, tc := range []struct {
		name, month, body, key, auth string
		status                       int
		field                        string
	}{
		{"zero with lines", "2026-05", `{"zero":true,"disputes":[{"kind":"dispute","summary":"a","leader":"b","plan":"c","time_limit":"2026-06-30"}]}`, "k1", handler, 400, "disputes"},
		{"nothing", "2026-05", `{}`, "k2", handler, 400, "disputes"},
		{"incomplete line", "2026-05", `{"disputes":[{"kind":"quarrel","summary":"a","time_limit":"June"}]}`, "k3", handler, 400, "disputes[0]"},
		{"bad month", "May", `{"zero":true}`, "k4", handler, 400, "month"},
		{"no key", "2026-05", `{"zero":true}`, "", handler, 428, ""},
		{"clerk", "2026-05", `{"zero":true}`, "k5", bearer("clerk"), 403, ""},
		{"no Temporal", "2026-05", `{"zero":true}`, "k6", handler, 503, ""},
	} {
		headers := []string{"Authorization", tc.auth}
		if tc.key != "" {
			headers = append(headers, "Idempotency-Key", tc.key)
		}
		w, body := do(t, s, http.MethodPost, "/api/v1/screening/rounds/"+tc.month+"/reports", tc.body, headers...)
		if w.Code != tc.status {
			t.Errorf("%s: status %d %v, want %d", tc.name, w.Code, body, tc.status)
			continue
		}
		if tc.field != "" {
			if f, _ := body["fields"].(map[string]any); f[tc.field] == nil {
				t.Errorf("%s: no field error for %s: %v", tc.name, tc.field, body)
			}
		}
	}
}

// A line already made a case answers that case; an unknown line is 404; only clerks.
func TestScreeningDisputeCase(t *testing.T) {
	s := screeningServer(&screeningRegister{})
	w, body := do(t, s, http.MethodPost, "/api/v1/screening/disputes/7/case", `{}`, "Authorization", bearer("clerk"))
	if w.Code != http.StatusOK || body["case_no"] != "2026-000042" {
		t.Errorf("linked line: %d %v", w.Code, body)
	}
	if w, _ := do(t, s, http.MethodPost, "/api/v1/screening/disputes/8/case", `{}`, "Authorization", bearer("clerk")); w.Code != http.StatusNotFound {
		t.Errorf("unknown line: %d", w.Code)
	}
	if w, _ := do(t, s, http.MethodPost, "/api/v1/screening/disputes/7/case", `{}`, "Authorization", bearer("supervisor")); w.Code != http.StatusForbidden {
		t.Errorf("supervisor: %d", w.Code)
	}
}
