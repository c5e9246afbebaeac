package register

import (
	"encoding/json"

	"github.com/petitions/petitions/workflows"
)

// caseRoutines is what the register keeps of a case's routines (assignment 交办, call-backs 回访,
// co-handling units 成员单位, joint investigation 联查): the whole as JSON for reads after the
// workflow ended, and the columns lists, scopes and statistics filter on.
type caseRoutines struct {
	json              []byte // nil: none ran
	involved          []string
	reached           bool
	assignmentStatus  string
	assignmentOverdue bool
	jointStatus       string
	jointCriteria     []string
}

func routinesOf(st workflows.CaseState) caseRoutines {
	r := caseRoutines{involved: st.InvolvedUnits(), jointCriteria: []string{}}
	if r.involved == nil {
		r.involved = []string{}
	}
	for _, cb := range st.CallBacks {
		r.reached = r.reached || cb.Reached
	}
	if a := st.Assignment; a != nil {
		r.assignmentStatus, r.assignmentOverdue = a.Status, a.Overdue
	}
	if j := st.Joint; j != nil {
		r.jointStatus = j.Status
		for _, f := range j.Flags {
			r.jointCriteria = append(r.jointCriteria, f.Criterion)
		}
	}
	if st.Assignment != nil || len(st.CallBacks) > 0 || len(st.CoUnits) > 0 || st.Joint != nil {
		// Marshalling these plain structs cannot fail.
		r.json, _ = json.Marshal(map[string]any{
			"assignment": st.Assignment, "call_backs": st.CallBacks,
			"co_units": st.CoUnits, "joint_investigation": st.Joint,
		})
	}
	return r
}
