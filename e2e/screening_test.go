package e2e

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/workflows"
)

// screeningRoundView is GET /api/v1/screening/rounds/{month}.
type screeningRoundView struct {
	Round struct {
		Month   string `json:"month"`
		Units   int    `json:"units"`
		Filed   int    `json:"filed"`
		Zero    int    `json:"zero"`
		Pending int    `json:"pending"`
		Missed  int    `json:"missed"`
	} `json:"round"`
	Reports []struct {
		Unit            string `json:"unit"`
		Status          string `json:"status"`
		EscalationLevel int    `json:"escalation_level"`
		FiledBy         string `json:"filed_by"`
	} `json:"reports"`
	Disputes []struct {
		ID     int64  `json:"id"`
		Unit   string `json:"unit"`
		CaseNo string `json:"case_no"`
	} `json:"disputes"`
	Filed []string `json:"filed"`
	Zero  []string `json:"zero"`
	Late  []struct {
		Unit            string `json:"unit"`
		EscalationLevel int    `json:"escalation_level"`
	} `json:"late"`
	Missed []string `json:"missed"`
}

func screeningKey() string { return "e2e-screening-" + strconv.FormatInt(time.Now().UnixNano(), 36) }

// A month's dispute screening round on the real stack, through HTTP: the worker has put the
// monthly schedule in place; a round (seconds-scale policy) opens for three units; the
// construction bureau's handler files a form with a dispute, the health bureau's leader a
// zero report, the land bureau files nothing and climbs the ladder to the superior unit (督办
// level 3); the dispute becomes a case through registration; the month's ledger lists it all.
func TestScreeningRoundThroughHTTP(t *testing.T) {
	ctx := context.Background()
	tc := stack.Service.Temporal()

	// The worker ensured the schedule at start (monthly, Asia/Shanghai).
	desc, err := tc.ScheduleClient().GetHandle(ctx, workflows.ScreeningScheduleID).Describe(ctx)
	if err != nil {
		t.Fatalf("the screening schedule: %v", err)
	}
	if a, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction); !ok || a.Workflow != workflows.ScreeningOpenWorkflow {
		t.Fatalf("schedule action: %+v", desc.Schedule.Action)
	}

	// A month no schedule opens during the test, so the round is this test's own.
	const month = "2030-01"
	pol := workflows.ScreeningPolicy{Name: "e2e", DueAfter: workflows.Duration(8 * time.Second),
		Ladder: workflows.Ladder{ReminderBefore: workflows.Duration(4 * time.Second),
			LeaderAfter: workflows.Duration(3 * time.Second), SuperiorAfter: workflows.Duration(6 * time.Second)},
		CloseAfter: workflows.Duration(5 * time.Minute)}
	_, err = tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ScreeningRoundID(month), TaskQueue: workflows.TaskQueue},
		workflows.ScreeningWorkflow, workflows.ScreeningInput{Month: month, Policy: pol, Units: []string{"construction", "health", "land"}})
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/screening/rounds/" + month
	var v screeningRoundView
	eventually(t, 20*time.Second, "the round in the register", func() bool {
		return callRaw(t, "GET", path, nil, &v, bearer(t, supervisor)...) == http.StatusOK && v.Round.Units == 3
	})

	// The construction bureau's handler files a form with one dispute.
	form := map[string]any{"disputes": []any{map[string]any{
		"kind": "dispute", "summary": "城东拆迁安置补偿争议，涉及十二户", "leader": "陈志强",
		"plan": "约谈双方，十日内提出补偿方案", "time_limit": "2030-02-15"}}, "note": "本月排查一件"}
	var filed struct {
		Report workflows.ScreeningUnit `json:"report"`
	}
	key := screeningKey()
	if code := callRaw(t, "POST", path+"/reports", form, &filed, append(bearer(t, handler), "Idempotency-Key", key)...); code != http.StatusOK || filed.Report.Status != workflows.ReportFiled {
		t.Fatalf("file the form: %d %+v", code, filed)
	}
	// A retry with the same key files once.
	if code := callRaw(t, "POST", path+"/reports", form, &filed, append(bearer(t, handler), "Idempotency-Key", key)...); code != http.StatusOK {
		t.Fatalf("retry: %d", code)
	}
	// The health bureau's leader files a zero report; the clerk may not file.
	if code := callRaw(t, "POST", path+"/reports", map[string]any{"zero": true}, &filed, append(bearer(t, "leader.health"), "Idempotency-Key", screeningKey())...); code != http.StatusOK || filed.Report.Status != workflows.ReportZero {
		t.Fatalf("zero report: %d %+v", code, filed)
	}
	var refusal map[string]any
	if code := callRaw(t, "POST", path+"/reports", map[string]any{"zero": true}, &refusal, append(bearer(t, "handler.construction"), "Idempotency-Key", screeningKey())...); code != http.StatusUnprocessableEntity {
		t.Fatalf("a second report: %d %v", code, refusal)
	}

	// The land bureau files nothing: reminder, overdue notice, its leader, the superior unit.
	eventually(t, 60*time.Second, "land escalated to the superior unit", func() bool {
		if callRaw(t, "GET", path, nil, &v, bearer(t, supervisor)...) != http.StatusOK {
			return false
		}
		for _, l := range v.Late {
			if l.Unit == "land" && l.EscalationLevel == 3 {
				return true
			}
		}
		return false
	})
	if len(v.Filed) != 1 || v.Filed[0] != "construction" || len(v.Zero) != 1 || v.Zero[0] != "health" {
		t.Fatalf("round: %+v", v)
	}

	// A unit's handler sees their own unit's report only.
	var own screeningRoundView
	if code := callRaw(t, "GET", path, nil, &own, bearer(t, "handler.health")...); code != http.StatusOK || len(own.Reports) != 1 || own.Reports[0].Unit != "health" {
		t.Fatalf("handler.health sees %d: %+v", code, own.Reports)
	}

	// The dispute becomes a case, registered by registration itself.
	if len(v.Disputes) != 1 {
		t.Fatalf("disputes: %+v", v.Disputes)
	}
	disputePath := "/api/v1/screening/disputes/" + strconv.FormatInt(v.Disputes[0].ID, 10) + "/case"
	var made struct {
		CaseNo string `json:"case_no"`
	}
	if code := callRaw(t, "POST", disputePath, map[string]any{"petitioners": []any{petitioner()}, "policy": "default"}, &made, bearer(t, clerk)...); code != http.StatusCreated || made.CaseNo == "" {
		t.Fatalf("dispute to case: %d %+v", code, made)
	}
	var again struct {
		CaseNo string `json:"case_no"`
	}
	if code := callRaw(t, "POST", disputePath, map[string]any{}, &again, bearer(t, clerk)...); code != http.StatusOK || again.CaseNo != made.CaseNo {
		t.Fatalf("again: %d %+v", code, again)
	}
	var cv caseView
	if code := call(t, "GET", "/api/v1/petitions/"+made.CaseNo, nil, &cv); code != http.StatusOK || cv.Case.Stage != string(workflows.StageRegistered) {
		t.Fatalf("the case: %d %+v", code, cv)
	}

	// The month's ledger.
	req, _ := http.NewRequest("GET", baseURL+path+"/ledger.csv", nil)
	req.Header.Set("Authorization", "Bearer "+tokenFor(t, clerk))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	ledger := string(raw)
	for _, want := range []string{"月份,单位,报送情况", "区住房和城乡建设局,已报送", "城东拆迁安置补偿争议", made.CaseNo,
		"区卫生健康局,零报告", "区自然资源局,未报送"} {
		if !strings.Contains(ledger, want) {
			t.Errorf("ledger lacks %q:\n%s", want, ledger)
		}
	}
}
