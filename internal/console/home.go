package console

import (
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/petitions/petitions/workflows"
)

// queue is one work list on a home page: an API list filter with a name. Its count and first
// rows come from GET /api/v1/petitions?count=true, so what a queue shows is what the API lets
// this reader see.
type queue struct {
	Key    string
	Filter url.Values
	// Rows shown on the home page (the list page shows the rest).
	Rows int
	// Filled in by load.
	Page *casePage
	Err  error
}

// Link is the queue as a list page.
func (q *queue) Link() string { return "/cases?" + q.Filter.Encode() }

// N is the queue's size (counted up to the API's cap); Capped says there are more.
func (q *queue) N() int {
	if q.Page == nil || q.Page.Count == nil {
		return 0
	}
	return *q.Page.Count
}

// Capped reports a count cut at the API's cap.
func (q *queue) Capped() bool { return q.Page != nil && q.Page.CountCapped }

// queuesFor are the home page's queues for a role: clerks register and decide acceptance,
// handlers work their own cases by due date and report results of assigned cases (交办), unit
// leaders watch their unit, decide extensions and joint investigations (联查) and receive
// escalations, supervisors walk the overdue ladder, review result reports and watch the cases
// proposed for joint investigation, reviewers decide reviews. Handlers and leaders also see
// the cases their unit co-handles or investigates jointly (involved_unit).
func queuesFor(me *staffMember, now time.Time) []*queue {
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	// The office week ends on Sunday night.
	weekEnd := day.AddDate(0, 0, 7-(int(now.Weekday())+6)%7)
	f := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	ts := func(t time.Time) string { return t.Format(time.RFC3339) }
	handling, registered := string(workflows.StageHandling), string(workflows.StageRegistered)
	switch workflows.Role(me.Role) {
	case workflows.RoleClerk:
		return []*queue{
			{Key: "q.awaiting", Filter: f("stage", registered), Rows: 10},
			{Key: "q.today", Filter: f("registered_by", me.ID, "registered_after", ts(day)), Rows: 10},
			{Key: "q.awaiting_overdue", Filter: f("stage", registered, "overdue", "true"), Rows: 5},
		}
	case workflows.RoleHandler:
		return []*queue{
			{Key: "q.mine", Filter: f("handler", me.ID, "stage", handling), Rows: 10},
			{Key: "q.mine_week", Filter: f("handler", me.ID, "stage", handling, "due_before", ts(weekEnd)), Rows: 5},
			{Key: "q.mine_overdue", Filter: f("handler", me.ID, "overdue", "true"), Rows: 5},
			{Key: "q.assigned_awaiting", Filter: f("handler", me.ID, "assignment", workflows.AssignmentAwaiting), Rows: 5},
			{Key: "q.involved", Filter: f("involved_unit", me.Unit), Rows: 5},
		}
	case workflows.RoleLeader:
		return []*queue{
			{Key: "q.extensions", Filter: f("stage", handling, "extension_pending", "true"), Rows: 5},
			{Key: "q.escalated_me", Filter: f("escalation_level", "2"), Rows: 5},
			{Key: "q.unit_awaiting", Filter: f("stage", registered), Rows: 5},
			{Key: "q.unit", Filter: f("stage", handling), Rows: 10},
			// Decided by the petition office's leaders; every leader sees their own cases' proposals.
			{Key: "q.joint_leader", Filter: f("joint", workflows.JointProposed), Rows: 5},
			{Key: "q.involved", Filter: f("involved_unit", me.Unit), Rows: 5},
		}
	case workflows.RoleSupervisor:
		return []*queue{
			{Key: "q.ladder3", Filter: f("escalation_level", "3"), Rows: 5},
			{Key: "q.ladder2", Filter: f("escalation_level", "2"), Rows: 5},
			{Key: "q.ladder1", Filter: f("escalation_level", "1"), Rows: 5},
			{Key: "q.overdue_all", Filter: f("overdue", "true"), Rows: 10},
			{Key: "q.results_review", Filter: f("assignment", workflows.AssignmentReported), Rows: 5},
			{Key: "q.joint_proposed", Filter: f("joint", workflows.JointProposed), Rows: 5},
		}
	case workflows.RoleReviewer:
		return []*queue{
			{Key: "q.review", Filter: f("stage", string(workflows.StageReview)), Rows: 10},
			{Key: "q.re_review", Filter: f("stage", string(workflows.StageReReview)), Rows: 10},
		}
	}
	return nil
}

// loadQueues asks the API for every queue's count and first rows, side by side.
func (c *Console) loadQueues(r *http.Request, qs []*queue) {
	var wg sync.WaitGroup
	for _, q := range qs {
		wg.Go(func() {
			p := url.Values{}
			for k, v := range q.Filter {
				p[k] = v
			}
			p.Set("count", "true")
			p.Set("limit", itoa(q.Rows))
			var page casePage
			if q.Err = c.get(r, "/api/v1/petitions", p).decode(&page); q.Err == nil {
				q.Page = &page
			}
		})
	}
	wg.Wait()
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, v *view) {
	qs := queuesFor(v.Me, v.Now)
	c.loadQueues(r, qs)
	v.Title = v.T("home.title")
	v.Nav = "home"
	v.Data = map[string]any{"Queues": qs}
	c.render(w, http.StatusOK, "home", v)
}
