package console

import (
	"encoding/json"
	"strings"

	"github.com/petitions/petitions/internal/labels"
	"github.com/petitions/petitions/workflows"
)

// The bureau's routines on a case in the case file: the assignment with its result reports
// (交办), the co-handling units (协办), the call-backs (回访) and the joint investigation (联查),
// each a section of the case file, and the forms of their actions. As everywhere in the
// console, which forms show is the API's allowed_actions; the sections show what the case's
// state says, or for a case whose workflow has ended the register's copy (the row's routines).

// cfRoutines are a case's routines as the case file shows them.
type cfRoutines struct {
	Assignment *workflows.Assignment         `json:"assignment"`
	CallBacks  []workflows.CallBack          `json:"call_backs"`
	CoUnits    []workflows.CoUnit            `json:"co_units"`
	Joint      *workflows.JointInvestigation `json:"joint_investigation"`
	// EvaluationSource: who gave the evaluation (the petitioner, or a call-back).
	EvaluationSource string `json:"-"`
	// FromRegister: read from the register's copy (the live state was not there).
	FromRegister bool `json:"-"`
}

// Any reports whether any routine ran on the case.
func (r cfRoutines) Any() bool {
	return r.Assignment != nil || len(r.CallBacks) > 0 || len(r.CoUnits) > 0 || r.Joint != nil
}

// LastReport is the assignment's latest result report, or nil.
func (r cfRoutines) LastReport() *workflows.ResultReport {
	if r.Assignment == nil || len(r.Assignment.Reports) == 0 {
		return nil
	}
	return &r.Assignment.Reports[len(r.Assignment.Reports)-1]
}

// cfRoutinesOf reads the routines from the live state, else from the register's row (a closed
// case: its state is null and the row keeps the routines as they last were).
func cfRoutinesOf(f caseFile) cfRoutines {
	if st := f.State; st != nil {
		return cfRoutines{Assignment: st.Assignment, CallBacks: st.CallBacks, CoUnits: st.CoUnits, Joint: st.Joint,
			EvaluationSource: st.EvaluationSource}
	}
	r := cfRoutines{EvaluationSource: f.Case.EvaluationSource}
	if raw := f.Case.Routines; len(raw) > 0 && string(raw) != "null" {
		var stored cfRoutines
		if json.Unmarshal(raw, &stored) == nil {
			stored.EvaluationSource, stored.FromRegister = r.EvaluationSource, true
			return stored
		}
	}
	return r
}

// ActorName is who acted, for people: the name recorded with the action, else the
// directory's name of the staff ID (workflows.Actor or *workflows.Actor; "" for nil).
func (v *view) ActorName(a any) string {
	var act workflows.Actor
	switch x := a.(type) {
	case workflows.Actor:
		act = x
	case *workflows.Actor:
		if x == nil {
			return ""
		}
		act = *x
	default:
		return ""
	}
	if act.Name != "" {
		return act.Name
	}
	return v.StaffName(act.ID)
}

// DueText is a deadline instant as the case file words it (24:00 of its last day).
func (v *view) DueText(t any) string { return cfDueText(v, t) }

// UnitNames words a list of unit codes.
func (v *view) UnitNames(codes []string) []string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		out = append(out, v.UnitName(c))
	}
	return out
}

// cfJointFlagInfo words the criteria set on a case: each criterion with who set it (the
// system's own proposals marked 系统提出) and why.
func cfJointFlagInfo(v *view, j *workflows.JointInvestigation) []cfDetail {
	if j == nil {
		return nil
	}
	var out []cfDetail
	for _, f := range j.Flags {
		who := v.T("routine.joint.auto")
		if !f.Auto {
			who = v.StaffName(f.By)
		}
		val := who
		if f.Reason != "" {
			val += "：" + f.Reason
		}
		out = append(out, cfDetail{Label: v.Label(labels.KindJointCriterion, f.Criterion), Value: val, Long: true})
	}
	return out
}

// routineForm fills in the form of one of the routines' actions (actionForms calls it).
func (c *Console) routineForm(v *view, f *cfForm, now cfNow, d cfDirectory) {
	a := f.Name
	rt := now.Routines
	switch a {
	case workflows.UpdateAssign:
		if now.Deadline != nil && !now.Deadline.AwaitingService {
			f.Info = []cfDetail{{Label: v.T("act.info.handling_due"), Value: cfDueText(v, now.Deadline.Due)}}
		}
		unitField := cfUnitField(v, a, d, now.Unit) // another unit moves the case there
		unitField.Label = "act.f.assign_unit"
		f.Fields = []cfField{
			unitField,
			cfTextarea(a, "opinion", "act.f.assign_opinion", false),
			{ID: a + "-report_due", Name: "report_due", Kind: "date", Label: "act.f.report_due", Hint: "act.hint.report_due", Optional: true},
		}
	case workflows.UpdateReportResult:
		if as := rt.Assignment; as != nil {
			f.Info = []cfDetail{
				{Label: v.T("routine.instructions"), Value: as.Instructions, Long: true},
				{Label: v.T("routine.report_due"), Value: cfDueText(v, as.ReportDue)},
			}
			if last := rt.LastReport(); last != nil && last.Accepted != nil && !*last.Accepted {
				f.Info = append(f.Info, cfDetail{Label: v.T("routine.returned_for"), Value: last.Reason, Long: true})
			}
		}
		f.Fields = []cfField{cfTextarea(a, "opinion", "act.f.result_opinion", false)}
	case workflows.UpdateReviewResult:
		if last := rt.LastReport(); last != nil {
			f.Info = []cfDetail{
				{Label: v.T("routine.report"), Value: last.Opinion, Long: true},
				{Label: v.T("routine.reported_by"), Value: v.ActorName(last.By) + " · " + v.DateTime(last.At)},
			}
		}
		f.Fields = []cfField{
			{ID: a + "-approved", Name: "approved", Kind: "radio", Label: "act.f.review_result", Options: []cfOption{
				{Value: "yes", Label: v.T("act.result_accept")}, {Value: "no", Label: v.T("act.result_return")}}},
			cfTextarea(a, "reason", "act.f.return_reason", true),
			{ID: a + "-report_due", Name: "report_due", Kind: "date", Label: "act.f.new_report_due", Hint: "act.hint.new_report_due", Optional: true},
		}
		f.Fields[1].Hint = "act.hint.return_reason"
	case workflows.UpdateAddCoUnit:
		unitField := cfUnitField(v, a, d, "")
		unitField.Label = "act.f.co_unit"
		f.Fields = []cfField{unitField, cfTextarea(a, "opinion", "act.f.co_part", false)}
	case workflows.UpdateCoReply:
		if v.Me != nil {
			for _, cu := range rt.CoUnits {
				if cu.Unit == v.Me.Unit && cu.RepliedAt == nil {
					f.Info = []cfDetail{{Label: v.T("routine.co_part"), Value: cu.Part, Long: true}}
				}
			}
		}
		f.Fields = []cfField{cfTextarea(a, "opinion", "act.f.co_reply", false)}
	case workflows.UpdateRecordCallBack:
		eval := cfField{ID: a + "-evaluation", Name: "evaluation", Kind: "select", Label: "act.f.call_back_evaluation",
			Hint: "act.hint.call_back_evaluation", Optional: true,
			Options: []cfOption{{Value: "", Label: v.T("act.none"), Selected: true}}}
		for _, e := range []string{workflows.EvaluationSatisfied, workflows.EvaluationBasicSatisfied, workflows.EvaluationDissatisfied} {
			eval.Options = append(eval.Options, cfOption{Value: e, Label: v.Label(labels.KindEvaluation, e)})
		}
		f.Fields = []cfField{
			{ID: a + "-reached", Name: "reached", Kind: "radio", Label: "act.f.reached", Options: []cfOption{
				{Value: "yes", Label: v.T("act.reached_yes")}, {Value: "no", Label: v.T("act.reached_no")}}},
			eval,
			cfTextarea(a, "reason", "act.f.call_back_notes", true),
		}
	case workflows.UpdateFlagJoint:
		crit := cfField{ID: a + "-criterion", Name: "criterion", Kind: "select", Label: "act.f.criterion", Hint: "act.hint.criterion",
			Options: []cfOption{{Value: "", Label: v.T("act.choose"), Selected: true}}}
		for _, jc := range workflows.JointCriteria {
			if jc.Auto { // the workflow proposes these itself
				continue
			}
			crit.Options = append(crit.Options, cfOption{Value: jc.Code,
				Label: v.Tf("routine.criterion_no", jc.No, v.Label(labels.KindJointCriterion, jc.Code))})
		}
		f.Info = cfJointFlagInfo(v, rt.Joint)
		f.Fields = []cfField{crit, cfTextarea(a, "reason", "act.f.flag_reason", false)}
	case workflows.UpdateDecideJoint:
		f.Info = cfJointFlagInfo(v, rt.Joint)
		team := cfField{ID: a + "-units", Name: "units", Kind: "checkboxes", Label: "act.f.team", Hint: "act.hint.team"}
		if d.Units == nil {
			team.Kind, team.Hint, team.Value = "text", "act.hint.unit_codes", now.Unit
		} else {
			for _, u := range d.Units {
				team.Options = append(team.Options, cfOption{Value: u.Code, Label: u.Name, Selected: u.Code == now.Unit})
			}
		}
		f.Fields = []cfField{
			{ID: a + "-approved", Name: "approved", Kind: "radio", Label: "act.f.joint_decision", Options: []cfOption{
				{Value: "yes", Label: v.T("act.joint_approve")}, {Value: "no", Label: v.T("act.joint_decline")}}},
			team,
			cfTextarea(a, "reason", "act.f.joint_reason", true),
		}
		f.Fields[2].Hint = "act.hint.joint_reason"
	case workflows.UpdateRecordJointFindings:
		if j := rt.Joint; j != nil && len(j.Team) > 0 {
			f.Info = []cfDetail{{Label: v.T("routine.team"), Value: strings.Join(v.UnitNames(j.Team), "、")}}
		}
		f.Fields = []cfField{cfTextarea(a, "opinion", "act.f.findings", false)}
	case workflows.UpdateAssignLeader:
		f.Fields = []cfField{
			cfStaffField(v, a, "leader", "act.f.leader", d.Leaders, "", false),
			cfTextarea(a, "reason", "act.f.assign_leader_reason", true),
		}
	}
}
