package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/workflows"
)

// cfTags are a page's tags: without them, its text.
var cfTags = regexp.MustCompile(`<[^>]*>`)

// routineActions are the ten actions of the bureau's routines.
var routineActions = []string{
	workflows.UpdateAssign, workflows.UpdateReportResult, workflows.UpdateReviewResult, workflows.UpdateAddCoUnit,
	workflows.UpdateCoReply, workflows.UpdateRecordCallBack, workflows.UpdateFlagJoint, workflows.UpdateDecideJoint,
	workflows.UpdateRecordJointFindings, workflows.UpdateAssignLeader,
}

// cfRoutineSample is cfSample with every routine on the case: an assignment with a report sent
// back and a second one waiting, a co-handling unit that replied and one that has not, a joint
// investigation proposed by the system and flagged by a supervisor, approved with a team and
// concluded, and a call-back whose evaluation counted.
func cfRoutineSample() *cfFakeAPI {
	api := cfSample()
	st := api.file.State
	at := time.Date(2026, 3, 6, 9, 30, 0, 0, cfZone)
	later := at.Add(48 * time.Hour)
	no, sup := false, workflows.Actor{ID: "supervisor.zhao", Name: "赵强", Role: workflows.RoleSupervisor, Unit: "petition_office"}
	st.Assignment = &workflows.Assignment{By: sup, At: at, Instructions: "请于3月20日前查清欠薪数额并报结果。",
		ReportDue: time.Date(2026, 3, 21, 0, 0, 0, 0, cfZone), Status: workflows.AssignmentReported,
		Reports: []workflows.ResultReport{
			{Opinion: "已约谈施工方。", By: workflows.Actor{ID: "handler.construction", Role: workflows.RoleHandler}, At: at.Add(time.Hour),
				Accepted: &no, Reason: "未写明支付时间", ReviewedBy: &sup, ReviewedAt: &later},
			{Opinion: "施工方承诺3月底前支付全部工资。", By: workflows.Actor{ID: "handler.construction", Role: workflows.RoleHandler}, At: later.Add(time.Hour)},
		}}
	replied := later
	st.CoUnits = []workflows.CoUnit{
		{Unit: "health", Part: "核查工伤医疗费用", AddedBy: sup, AddedAt: at, Reply: "医疗费用已核实。",
			RepliedBy: &workflows.Actor{ID: "handler.health", Name: "刘医"}, RepliedAt: &replied},
		{Unit: "land", Part: "核查用地手续", AddedBy: sup, AddedAt: at},
	}
	decided := later
	st.Joint = &workflows.JointInvestigation{Status: workflows.JointApproved, Team: []string{"construction", "health"},
		DecidedBy: &workflows.Actor{ID: "leader.petition_office", Name: "钱局", Role: workflows.RoleLeader}, DecidedAt: &decided,
		Flags: []workflows.JointFlag{
			{Criterion: workflows.JointSkipGroupLong, Auto: true, Reason: "group petition (集体访)", By: "system", At: at},
			{Criterion: workflows.JointUrgentRisk, Reason: "工人聚集，易引发集体访", By: "supervisor.zhao", At: at},
		}}
	st.CallBacks = []workflows.CallBack{{At: later, By: sup, Reached: true, Evaluation: workflows.EvaluationBasicSatisfied, Notes: "信访人表示基本满意"}}
	st.Evaluation, st.EvaluationSource = workflows.EvaluationBasicSatisfied, workflows.EvaluationByCallBack
	api.file.AllowedActions = cfDashed(routineActions)
	return api
}

func TestCaseFileRoutineSections(t *testing.T) {
	api := cfRoutineSample()
	c := cfConsole(t, api)
	w := cfGet(c, "/cases/2026-000001")
	page := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, page)
	}
	for _, want := range []string{
		`id="routines"`, `id="assignment"`, `id="co-units"`, `id="joint"`, `id="call-backs"`,
		// the assignment: instructions, due at 24:00 of its last day, status, each report and its review
		"请于3月20日前查清欠薪数额并报结果。", "2026年3月20日 24:00", "办理结果待审核", "第1次办理结果报告", "已退回", "未写明支付时间",
		"第2次办理结果报告", "施工方承诺3月底前支付全部工资。", "待审核",
		// co-handling units: part and reply, or not yet
		"核查工伤医疗费用", "医疗费用已核实。", "刘医", "核查用地手续", "尚未回复", "牵头单位：区住房和城乡建设局",
		// joint investigation: criteria with who and why, the system's own marked, status, team
		"联查中", "越级访、集体访、上访老户", "系统提出", "情况紧急，易引发集体访或不良影响", "工人聚集，易引发集体访", "钱局",
		"区住房和城乡建设局、区卫生健康局",
		// call-backs and where the evaluation came from
		"信访人表示基本满意", "已联系上", "基本满意", "回访评价",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// The forms of the ten actions, with their fields named <update>-<field>.
	for _, a := range routineActions {
		for _, id := range []string{`id="act-` + a + `"`, `id="act-` + a + `-submit"`} {
			if !strings.Contains(page, id) {
				t.Errorf("page lacks %s", id)
			}
		}
	}
	for _, id := range []string{
		`id="assign-opinion"`, `id="assign-report_due"`, `id="report_result-opinion"`, `id="review_result-approved-yes"`,
		`id="review_result-approved-no"`, `id="review_result-reason"`, `id="review_result-report_due"`, `id="add_co_unit-unit"`,
		`id="add_co_unit-opinion"`, `id="co_reply-opinion"`, `id="record_call_back-reached-yes"`, `id="record_call_back-evaluation"`,
		`id="record_call_back-reason"`, `id="flag_joint_investigation-criterion"`, `id="flag_joint_investigation-reason"`,
		`id="decide_joint_investigation-approved-yes"`, `id="decide_joint_investigation-units-health"`,
		`id="record_joint_findings-opinion"`, `id="assign_leader-leader"`, `id="assign_leader-reason"`,
	} {
		if !strings.Contains(page, id) {
			t.Errorf("page lacks field %s", id)
		}
	}
	// The team is checkboxes, the handling unit ticked; the criteria offered are the supervisor's.
	if !strings.Contains(page, `type="checkbox" id="decide_joint_investigation-units-construction" name="units" value="construction" checked`) ||
		!strings.Contains(page, `type="checkbox" id="decide_joint_investigation-units-health" name="units" value="health">`) {
		t.Error("the team is not offered as checkboxes with the handling unit ticked")
	}
	for _, code := range []string{"urgent_risk", "misconduct", "recusal", "unit_request", "leader_quick"} {
		if !strings.Contains(page, `<option value="`+code+`"`) {
			t.Errorf("criterion %s not offered", code)
		}
	}
	for _, code := range []string{"skip_group_long", "repeat_after_handling", "assignment_overdue"} {
		if strings.Contains(page, `<option value="`+code+`"`) {
			t.Errorf("criterion %s is the system's and is offered", code)
		}
	}
	// The review shows the report to review; the leader's decision the criteria.
	if !strings.Contains(page, `id="act-review_result-pending"`) || !strings.Contains(page, `id="act-decide_joint_investigation-pending"`) {
		t.Error("the review or the decision does not show what it decides on")
	}
	// Timeline details of the routines' events are worded.
	cfCheckLabels(t, page)
}

func TestCaseFileRoutineEventDetails(t *testing.T) {
	api := cfRoutineSample()
	at := time.Date(2026, 3, 6, 9, 30, 0, 0, cfZone)
	sys := workflows.Actor{ID: "system", Role: workflows.RoleSystem}
	api.events = append(api.events,
		workflows.Event{Seq: 4, Type: workflows.EventWarningRaised, At: at, Actor: sys,
			Details: map[string]any{"rule": "group", workflows.DetailJointProposed: []any{"skip_group_long"}}},
		workflows.Event{Seq: 5, Type: workflows.EventAssigned, At: at, Actor: workflows.Actor{ID: "supervisor.zhao", Name: "赵强", Role: "supervisor"},
			Details: map[string]any{"unit": "construction", "instructions": "限期报结果", "report_due": "2026-03-21T00:00:00+08:00"}},
		workflows.Event{Seq: 6, Type: workflows.EventJointDecided, At: at, Actor: workflows.Actor{ID: "leader.petition_office", Name: "钱局", Role: "leader"},
			Details: map[string]any{"approved": true, "team": []any{"construction", "health"}}},
		workflows.Event{Seq: 7, Type: workflows.EventCallBackRecorded, At: at, Actor: workflows.Actor{ID: "clerk.li", Name: "李娜", Role: "clerk"},
			Details: map[string]any{"reached": true, "call_back": 1.0, "evaluation": "satisfied", "counts_as_evaluation": true, "notes": "满意"}},
		workflows.Event{Seq: 8, Type: workflows.EventCoUnitAdded, At: at, Actor: workflows.Actor{ID: "supervisor.zhao", Name: "赵强", Role: "supervisor"},
			Details: map[string]any{"unit": "health", "part": "核查医疗费用", "lead_unit": "construction"}},
	)
	c := cfConsole(t, api)
	page := cfGet(c, "/cases/2026-000001").Body.String()
	for _, want := range []string{
		"系统提出联查", "预警规则", "集体访", "交办意见", "限期报结果", "结果报送期限", "2026年3月20日 24:00", "联查组成员单位", "区住房和城乡建设局、区卫生健康局",
		"联系上信访人", "作为满意度评价", "第1次", "承担事项", "核查医疗费用", "牵头单位", "联查审批", "回访", "增加协办单位",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("timeline lacks %s", want)
		}
	}
	if text := cfTags.ReplaceAllString(page, " "); strings.Contains(text, "skip_group_long") || strings.Contains(text, "counts_as_evaluation") ||
		strings.Contains(text, "rule") {
		t.Error("a code shows instead of its label")
	}
}

// A closed case's state is null: the routines come from the register's row.
func TestCaseFileRoutinesOfAClosedCase(t *testing.T) {
	api := cfRoutineSample()
	st := api.file.State
	routines, _ := json.Marshal(map[string]any{"assignment": st.Assignment, "call_backs": st.CallBacks,
		"co_units": st.CoUnits, "joint_investigation": st.Joint})
	closed := time.Date(2026, 3, 25, 9, 0, 0, 0, cfZone)
	api.file.State, api.file.Source, api.file.AllowedActions = nil, "register", nil
	api.file.Case.Stage, api.file.Case.ClosedAt, api.file.Case.Evaluation = "closed", &closed, workflows.EvaluationBasicSatisfied
	api.file.Case.Routines, api.file.Case.EvaluationSource = routines, workflows.EvaluationByCallBack
	c := cfConsole(t, api)
	page := cfGet(c, "/cases/2026-000001").Body.String()
	for _, want := range []string{`id="routines-register"`, `id="assignment"`, "施工方承诺3月底前支付全部工资。", `id="joint"`, "系统提出",
		"核查用地手续", "信访人表示基本满意", "回访评价", "已办结"} {
		if !strings.Contains(page, want) {
			t.Errorf("closed case lacks %s", want)
		}
	}
	if strings.Contains(page, `id="act-`) || strings.Contains(page, `id="state-error"`) {
		t.Error("a closed case offers actions or says its state is unavailable")
	}
	// No routines: no section.
	api.file.Case.Routines = nil
	if page := cfGet(c, "/cases/2026-000001").Body.String(); strings.Contains(page, `id="routines"`) {
		t.Error("a case without routines shows their section")
	}
}

func TestCaseFileRoutineActions(t *testing.T) {
	api := cfRoutineSample()
	c := cfConsole(t, api)
	post := func(action string, fields url.Values) (string, string) {
		t.Helper()
		form := url.Values{"csrf": {"tok"}, "key": {"console-r1"}, "seq": {"7"}}
		for k, v := range fields {
			form[k] = v
		}
		w := cfPost(c, "/cases/2026-000001/actions/"+action, form)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("%s: %d", action, w.Code)
		}
		fl := cfFlash(w)
		if fl == nil {
			t.Fatalf("%s: no flash", action)
		}
		last := api.calls[len(api.calls)-1]
		return last.Method + " " + last.URL.Path + " " + api.bodies[len(api.bodies)-1], fl.Text
	}
	for _, tc := range []struct {
		action string
		form   url.Values
		call   string
		done   string
	}{
		{workflows.UpdateDecideJoint, url.Values{"approved": {"yes"}, "units": {"construction", "health"}, "reason": {""}},
			`POST /api/v1/petitions/2026-000001/decide-joint-investigation {"approved":true,"units":["construction","health"]}`, "联查审批"},
		{workflows.UpdateDecideJoint, url.Values{"approved": {"no"}, "reason": {"不属联查范围"}},
			`POST /api/v1/petitions/2026-000001/decide-joint-investigation {"reason":"不属联查范围","approved":false}`, "联查审批"},
		{workflows.UpdateRecordCallBack, url.Values{"reached": {"no"}, "evaluation": {""}, "reason": {"电话无人接听"}},
			`POST /api/v1/petitions/2026-000001/record-call-back {"reason":"电话无人接听","reached":false}`, "已登记回访"},
		{workflows.UpdateRecordCallBack, url.Values{"reached": {"yes"}, "evaluation": {"satisfied"}},
			`POST /api/v1/petitions/2026-000001/record-call-back {"reached":true,"evaluation":"satisfied"}`, "已登记回访"},
		{workflows.UpdateAssign, url.Values{"opinion": {"限期报结果"}, "report_due": {"2026-03-20"}},
			`POST /api/v1/petitions/2026-000001/assign {"opinion":"限期报结果","report_due":"2026-03-20"}`, "已交办"},
		{workflows.UpdateReviewResult, url.Values{"approved": {"no"}, "reason": {"未写明支付时间"}, "report_due": {""}},
			`POST /api/v1/petitions/2026-000001/review-result {"reason":"未写明支付时间","approved":false}`, "已审核"},
		{workflows.UpdateFlagJoint, url.Values{"criterion": {"misconduct"}, "reason": {"涉嫌违纪"}},
			`POST /api/v1/petitions/2026-000001/flag-joint-investigation {"reason":"涉嫌违纪","criterion":"misconduct"}`, "已列入联查范围"},
		{workflows.UpdateAddCoUnit, url.Values{"unit": {"land"}, "opinion": {"核查用地手续"}},
			`POST /api/v1/petitions/2026-000001/add-co-unit {"unit":"land","opinion":"核查用地手续"}`, "已增加协办单位"},
		{workflows.UpdateAssignLeader, url.Values{"leader": {"leader.construction"}, "reason": {"领导接访日接待"}},
			`POST /api/v1/petitions/2026-000001/assign-leader {"leader":"leader.construction","reason":"领导接访日接待"}`, "已确定包案领导"},
	} {
		call, done := post(tc.action, tc.form)
		if call != tc.call || !strings.Contains(done, tc.done) {
			t.Errorf("%s %v:\n got %s (%s)\nwant %s (%s)", tc.action, tc.form, call, done, tc.call, tc.done)
		}
	}
	// A yes-or-no that is neither is the reader's mistake, and reaches no API action.
	n := len(api.calls)
	w := cfPost(c, "/cases/2026-000001/actions/record_call_back", url.Values{"csrf": {"tok"}, "key": {"k"}, "seq": {"7"}, "reached": {"perhaps"}})
	if fl := cfFlash(w); fl == nil || !strings.Contains(fl.Text, "是否联系上信访人") {
		t.Errorf("reached=perhaps: %+v", fl)
	}
	for _, r := range api.calls[n:] {
		if r.Method == "POST" {
			t.Errorf("a refused form reached the API: %s", r.URL.Path)
		}
	}
}

// The team's units come as checkbox values, or as a typed list when the directory is out.
func TestFormUnits(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"construction"}, "construction"},
		{[]string{"construction", "health", "construction"}, "construction,health"},
		{[]string{"construction, health，land、 civil_affairs  education"}, "construction,health,land,civil_affairs,education"},
		{[]string{" ", ""}, ""},
	} {
		if got := strings.Join(formUnits(tc.in), ","); got != tc.want {
			t.Errorf("formUnits(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The queues of the routines: what each role sees, as API list filters.
func TestRoutineQueues(t *testing.T) {
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, cfZone)
	find := func(role, key string) url.Values {
		t.Helper()
		for _, q := range queuesFor(&staffMember{ID: "x." + role, Role: role, Unit: "construction"}, now) {
			if q.Key == key {
				return q.Filter
			}
		}
		t.Fatalf("%s has no queue %s", role, key)
		return nil
	}
	for _, tc := range []struct{ role, key, want string }{
		{"supervisor", "q.joint_proposed", "joint=proposed"},
		{"supervisor", "q.results_review", "assignment=reported"},
		{"leader", "q.joint_leader", "joint=proposed"},
		{"leader", "q.involved", "involved_unit=construction"},
		{"handler", "q.assigned_awaiting", "assignment=awaiting_report&handler=x.handler"},
		{"handler", "q.involved", "involved_unit=construction"},
	} {
		if got := find(tc.role, tc.key).Encode(); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.role, tc.key, got, tc.want)
		}
	}
	// The list page forwards the filters (the queues' "see all" links).
	q := caseListQuery(url.Values{"joint": {"proposed"}, "assignment": {"reported"}, "involved_unit": {"land"}, "warning": {"group"}, "bogus": {"1"}})
	if q.Encode() != "assignment=reported&involved_unit=land&joint=proposed&warning=group" {
		t.Errorf("list query %s", q.Encode())
	}
}
