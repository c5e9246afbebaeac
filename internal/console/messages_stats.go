package console

// Words of the statistics page's figures of the bureau's routines, the topics and the
// screening reports (issue 13).
func init() {
	addMessages(map[string][2]string{
		"stats.routines":               {"越级、重复信访与交办、回访、联查、排查", "Skip-level and repeat petitions, assignments, call-backs, joint investigations, screening"},
		"stats.skip_level":             {"越级访", "Skip-level petitions"},
		"stats.repeat_cases":           {"重复信访件", "Cases with repeat petitions"},
		"stats.repeat_submissions":     {"本期收到重复信访 %d 次", "%d repeat petitions received"},
		"stats.joint_proposed":         {"拟联查", "Proposed for joint investigation"},
		"stats.joint_declined":         {"不予联查 %d 件", "%d declined"},
		"stats.joint_approved":         {"批准联查", "Approved for joint investigation"},
		"stats.joint_concluded":        {"联查办结", "Joint investigations concluded"},
		"stats.call_back_rate":         {"回访率", "Call-back rate"},
		"stats.reached_rate":           {"回访联系成功率", "Call-backs reaching the petitioner"},
		"stats.evaluated_by_call_back": {"回访评价", "Evaluated by call-back"},
		"stats.of_evaluated":           {"共评价 %d 件", "of %d evaluated"},
		"stats.assigned":               {"交办", "Assigned"},
		"stats.assignments_overdue":    {"交办逾期未报结果", "Result reports overdue"},
		"stats.screening_rate":         {"排查按时报送率", "Screening reports on time"},
		"stats.screening_by_unit":      {"各单位矛盾纠纷排查报送", "Dispute screening reports by unit"},
		"stats.screening_on_time":      {"按时报送", "On time"},
		"stats.screening_late":         {"逾期报送", "Late"},
		"stats.routines_by_unit":       {"各单位交办、回访与联查", "Assignments, call-backs and joint investigations by unit"},
		"stats.by_topic":               {"热点事项", "Topics"},
		"stats.topic_of":               {"%s（%s）", "%s (%s)"},
		"stats.col_rank":               {"序号", "No."},
		"stats.col_topic":              {"事由", "Topic"},
	})
}
