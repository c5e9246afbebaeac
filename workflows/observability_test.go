package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/workflows"
)

func TestSearchAttributesAndCurrentDetails(t *testing.T) {
	r := newRun(t)
	var upserts []temporal.SearchAttributes
	r.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Run(func(args mock.Arguments) {
		upserts = append(upserts, args.Get(0).(temporal.SearchAttributes))
	})
	r.act(sec(1), workflows.UpdateAccept, workflows.ActionInput{Actor: clerk, Unit: "construction", Handler: "h1", Leader: "deputy-mayor"})
	var details string
	r.at(sec(70), func() { // overdue since 65s
		v, err := r.env.QueryWorkflow("__temporal_workflow_metadata")
		if err != nil {
			t.Error(err)
			return
		}
		var md sdkpb.WorkflowMetadata
		if err := v.Get(&md); err != nil {
			t.Error(err)
			return
		}
		details = md.GetCurrentDetails()
	})
	r.act(sec(71), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "settled"})
	r.execute()

	if len(upserts) != len(r.f.transitions) {
		t.Fatalf("%d upserts for %d transitions", len(upserts), len(r.f.transitions))
	}
	// After the overdue event (accept, reminder, overdue): the Web UI filter fields.
	sa := upserts[3]
	checkKeyword := func(key temporal.SearchAttributeKeyKeyword, want string) {
		if got, _ := sa.GetKeyword(key); got != want {
			t.Errorf("%s = %q, want %q", key.GetName(), got, want)
		}
	}
	checkKeyword(workflows.SearchCaseNo, caseNo)
	checkKeyword(workflows.SearchStage, "handling")
	checkKeyword(workflows.SearchUnit, "construction")
	checkKeyword(workflows.SearchLeader, "deputy-mayor")
	checkKeyword(workflows.SearchPolicy, "demo")
	checkKeyword(workflows.SearchChannel, "visit")
	checkKeyword(workflows.SearchCategory, "appeal")
	if v, _ := sa.GetBool(workflows.SearchOverdue); !v {
		t.Error("PetitionOverdue not set")
	}
	if v, _ := sa.GetInt64(workflows.SearchEscalationLevel); v != 1 {
		t.Errorf("PetitionEscalationLevel = %d", v)
	}
	if v, _ := sa.GetTime(workflows.SearchDueAt); !v.Equal(t0.Add(sec(61))) {
		t.Errorf("PetitionDueAt = %s", v)
	}
	// Final: no due date any more.
	if _, ok := upserts[len(upserts)-1].GetTime(workflows.SearchDueAt); ok {
		t.Error("PetitionDueAt still set on a withdrawn case")
	}

	due := t0.Add(sec(61)).In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05")
	for _, want := range []string{"handling", "construction", due + " (Asia/Shanghai)", "Escalation level:** 1", "handling due"} {
		if !strings.Contains(details, want) {
			t.Errorf("current details lack %q:\n%s", want, details)
		}
	}
}
