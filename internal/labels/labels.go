// Package labels is where every code the system stores (stages, categories, channels, roles,
// events, clocks, evaluations, outcomes, actions) gets the words a person reads: 简体中文 first,
// English as the console's switch. The console, the CSV and Excel exports and the notices take
// their labels from here and nowhere else; docs/glossary.md is the same table for people
// (a test keeps the two in step).
package labels

import (
	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/warning"
	"github.com/petitions/petitions/workflows"
)

// Lang is a display language.
type Lang string

const (
	Chinese Lang = "zh" // 简体中文, the default
	English Lang = "en"
)

// term is one code's label in both languages.
type term struct{ zh, en string }

// Kinds of codes.
const (
	KindStage      = "stage"
	KindCategory   = "category"
	KindChannel    = "channel"
	KindRole       = "role"
	KindEvent      = "event"
	KindClock      = "clock"
	KindEvaluation = "evaluation"
	KindOutcome    = "outcome"
	KindAction     = "action"
	KindStepKind   = "step"
	// Early warning (预警): a warning's rule and the administrative level a petition was lodged at.
	KindWarning = "warning"
	KindLevel   = "level"
	// Monthly dispute screening (矛盾纠纷排查): a unit's report status and a form line's kind.
	KindScreeningStatus = "screening_status"
	KindDisputeKind     = "dispute_kind"
	// The bureau's routines on a case: joint investigation (联查) criteria and statuses, the
	// assignment's (交办) status, where an evaluation came from.
	KindJointCriterion   = "joint_criterion"
	KindJointStatus      = "joint_status"
	KindAssignmentStatus = "assignment_status"
	KindEvaluationSource = "evaluation_source"
)

var table = map[string]map[string]term{
	KindStage: {
		string(workflows.StageRegistered): {"已登记待受理", "registered"},
		string(workflows.StageHandling):   {"办理中", "handling"},
		string(workflows.StageReplied):    {"已答复", "replied"},
		string(workflows.StageReview):     {"复查中", "under review"},
		string(workflows.StageReviewed):   {"已复查", "reviewed"},
		string(workflows.StageReReview):   {"复核中", "under re-review"},
		string(workflows.StageClosed):     {"已办结", "closed"},
		string(workflows.StageTerminated): {"已终结", "terminated"},
		string(workflows.StageRejected):   {"不予受理", "rejected"},
		string(workflows.StageWithdrawn):  {"已撤回", "withdrawn"},
	},
	KindCategory: {
		"accusation": {"检举控告", "accusation"},
		"appeal":     {"申诉求决", "appeal"},
		"suggestion": {"意见建议", "suggestion"},
		"inquiry":    {"咨询", "inquiry"},
	},
	KindChannel: {
		"letter":  {"来信", "letter"},
		"visit":   {"来访", "visit"},
		"phone":   {"电话", "phone"},
		"online":  {"网上信访", "online"},
		"hotline": {"12345 热线", "12345 hotline"},
		"email":   {"电子邮件", "e-mail"},
	},
	KindRole: {
		string(workflows.RoleClerk):      {"登记员", "clerk"},
		string(workflows.RoleHandler):    {"承办人", "handler"},
		string(workflows.RoleLeader):     {"单位领导", "unit leader"},
		string(workflows.RoleSupervisor): {"督查员", "supervisor"},
		string(workflows.RoleReviewer):   {"复查复核人员", "reviewer"},
		string(workflows.RolePetitioner): {"信访人", "petitioner"},
		string(workflows.RoleSystem):     {"系统", "system"},
		string(workflows.RoleAdmin):      {"系统管理员", "administrator"},
	},
	KindEvent: {
		workflows.EventRegistered:          {"登记", "registered"},
		workflows.EventAccepted:            {"受理", "accepted"},
		workflows.EventRejected:            {"不予受理", "rejected"},
		workflows.EventForwarded:           {"转送", "forwarded"},
		workflows.EventReminderSent:        {"催办提醒", "reminder sent"},
		workflows.EventReminderSkipped:     {"催办提醒未发（已逾期）", "reminder skipped"},
		workflows.EventOverdue:             {"逾期", "overdue"},
		workflows.EventEscalated:           {"升级督办", "escalated"},
		workflows.EventReplied:             {"答复", "replied"},
		workflows.EventExtensionRequested:  {"申请延期", "extension requested"},
		workflows.EventExtensionDecided:    {"延期审批", "extension decided"},
		workflows.EventReassigned:          {"改派", "reassigned"},
		workflows.EventPaused:              {"中止计时", "clock paused"},
		workflows.EventResumed:             {"恢复计时", "clock resumed"},
		workflows.EventSupervised:          {"督办", "supervised"},
		workflows.EventEvaluated:           {"满意度评价", "evaluated"},
		workflows.EventReviewRequested:     {"申请复查", "review requested"},
		workflows.EventReviewDecided:       {"复查意见", "review decided"},
		workflows.EventReReviewRequested:   {"申请复核", "re-review requested"},
		workflows.EventReReviewDecided:     {"复核意见", "re-review decided"},
		workflows.EventClosed:              {"办结", "closed"},
		workflows.EventTerminated:          {"终结", "terminated"},
		workflows.EventWithdrawn:           {"撤回", "withdrawn"},
		workflows.EventRepeatLinked:        {"重复信访并案", "repeat linked"},
		workflows.EventDeadlineChanged:     {"期限调整", "deadline changed"},
		workflows.EventCancellationRefused: {"撤销请求被拒", "cancellation refused"},
		workflows.EventServiceRecorded:     {"送达", "service recorded"},
		workflows.EventServiceReminderSent: {"送达登记提醒", "service reminder sent"},
		workflows.EventWarningRaised:       {"预警", "warning raised"},
		workflows.EventRoundOpened:         {"矛盾纠纷排查开始", "screening round opened"},
		workflows.EventReportFiled:         {"报送排查表", "screening form filed"},
		workflows.EventZeroReport:          {"零报告", "zero report filed"},
		workflows.EventReportMissed:        {"逾期未报", "screening report missed"},
		workflows.EventRoundClosed:         {"矛盾纠纷排查结束", "screening round closed"},
		workflows.EventDisputeCase:         {"矛盾纠纷转为信访事项", "dispute made a case"},
		workflows.EventAssigned:            {"交办", "assigned"},
		workflows.EventResultReported:      {"报送办理结果", "result reported"},
		workflows.EventResultReviewed:      {"审核办理结果", "result reviewed"},
		workflows.EventAssignmentOverdue:   {"交办件逾期未报结果", "result report overdue"},
		workflows.EventCallBackRecorded:    {"回访", "call-back recorded"},
		workflows.EventCoUnitAdded:         {"增加协办单位", "co-handling unit added"},
		workflows.EventCoReplied:           {"协办单位回复", "co-handling unit replied"},
		workflows.EventJointFlagged:        {"列入联查范围", "joint investigation criterion set"},
		workflows.EventJointDecided:        {"联查审批", "joint investigation decided"},
		workflows.EventJointFindings:       {"联查结论", "joint investigation findings"},
		workflows.EventLeaderAssigned:      {"领导包案", "leader in charge assigned"},
	},
	KindJointCriterion: {
		workflows.JointUrgentRisk:          {"情况紧急，易引发集体访或不良影响", "urgent risk of a group petition"},
		workflows.JointSkipGroupLong:       {"越级访、集体访、上访老户", "skip-level, group or long-standing petition"},
		workflows.JointMisconduct:          {"群体性事件或干部严重违纪违法", "mass incident or serious misconduct by officials"},
		workflows.JointRepeatAfterHandling: {"已作处理仍不服或重信重访", "repeat petition after handling"},
		workflows.JointAssignmentOverdue:   {"交办件逾期未报结果", "assigned case overdue without a result"},
		workflows.JointRecusal:             {"应回避或难以核实", "recusal or cannot be verified locally"},
		workflows.JointUnitRequest:         {"基层要求并经领导认定", "requested by the unit, approved by a leader"},
		workflows.JointLeaderQuick:         {"领导交办需快查快结", "assigned by a leader for a quick result"},
	},
	KindJointStatus: {
		workflows.JointProposed:  {"拟联查", "proposed"},
		workflows.JointApproved:  {"联查中", "in joint investigation"},
		workflows.JointDeclined:  {"不予联查", "declined"},
		workflows.JointConcluded: {"联查已结", "concluded"},
	},
	KindAssignmentStatus: {
		workflows.AssignmentAwaiting: {"待报办理结果", "awaiting the result report"},
		workflows.AssignmentReported: {"办理结果待审核", "result report to review"},
		workflows.AssignmentAccepted: {"办理结果已审核通过", "result report accepted"},
	},
	KindEvaluationSource: {
		workflows.EvaluationByPetitioner: {"信访人评价", "by the petitioner"},
		workflows.EvaluationByCallBack:   {"回访评价", "by call-back"},
	},
	KindScreeningStatus: {
		workflows.ReportPending: {"未报送", "not filed yet"},
		workflows.ReportFiled:   {"已报送", "filed"},
		workflows.ReportZero:    {"零报告", "zero report"},
		workflows.ReportMissed:  {"逾期未报", "missed"},
	},
	KindDisputeKind: {
		workflows.DisputeKindDispute:      {"矛盾纠纷", "dispute"},
		workflows.DisputeKindPetitionSign: {"信访苗头", "petition sign"},
	},
	KindWarning: {
		warning.RuleGroup:         {"集体访", "group petition"},
		warning.RuleSkipLevel:     {"越级访", "skip-level petition"},
		warning.RuleRepeat:        {"重复访", "repeat petitions"},
		warning.RuleOpenCases:     {"多件在办", "several open cases"},
		warning.RuleSensitiveDate: {"敏感时期", "sensitive period"},
	},
	KindLevel: {
		warning.LevelTownship: {"乡镇（街道）", "township"},
		warning.LevelDistrict: {"县（区）", "district"},
		warning.LevelCity:     {"市", "city"},
		warning.LevelProvince: {"省", "province"},
		warning.LevelNational: {"国家", "national"},
	},
	KindClock: {
		string(workflows.ClockAcceptance):     {"受理期限", "acceptance"},
		string(workflows.ClockHandling):       {"办理期限", "handling"},
		string(workflows.ClockReviewRequest):  {"申请复查期限", "review request window"},
		string(workflows.ClockReview):         {"复查期限", "review"},
		string(workflows.ClockReReviewWindow): {"申请复核期限", "re-review request window"},
		string(workflows.ClockReReview):       {"复核期限", "re-review"},
	},
	KindEvaluation: {
		workflows.EvaluationSatisfied:      {"满意", "satisfied"},
		workflows.EvaluationBasicSatisfied: {"基本满意", "basically satisfied"},
		workflows.EvaluationDissatisfied:   {"不满意", "dissatisfied"},
	},
	KindOutcome: {
		workflows.OutcomeUphold: {"维持", "uphold"},
		workflows.OutcomeRevise: {"撤销或变更", "revise"},
	},
	KindAction: {
		workflows.UpdateAccept:              {"受理", "accept"},
		workflows.UpdateReject:              {"不予受理", "reject"},
		workflows.UpdateForward:             {"转送", "forward"},
		workflows.UpdateWithdraw:            {"撤回", "withdraw"},
		workflows.UpdateReply:               {"答复", "reply"},
		workflows.UpdateRequestExtension:    {"申请延期", "request extension"},
		workflows.UpdateDecideExtension:     {"审批延期", "decide extension"},
		workflows.UpdateReassign:            {"改派", "reassign"},
		workflows.UpdatePause:               {"中止计时", "pause clock"},
		workflows.UpdateResume:              {"恢复计时", "resume clock"},
		workflows.UpdateSupervise:           {"督办", "supervise"},
		workflows.UpdateEvaluate:            {"满意度评价", "evaluate"},
		workflows.UpdateRequestReview:       {"申请复查", "request review"},
		workflows.UpdateReviewDecision:      {"复查决定", "review decision"},
		workflows.UpdateRequestReReview:     {"申请复核", "request re-review"},
		workflows.UpdateReReviewDecision:    {"复核决定", "re-review decision"},
		workflows.UpdateLinkRepeat:          {"重复信访并案", "link repeat"},
		workflows.UpdateRecordService:       {"登记送达", "record service"},
		workflows.UpdateAssign:              {"交办", "assign"},
		workflows.UpdateReportResult:        {"报送办理结果", "report result"},
		workflows.UpdateReviewResult:        {"审核办理结果", "review result"},
		workflows.UpdateAddCoUnit:           {"增加协办单位", "add co-handling unit"},
		workflows.UpdateCoReply:             {"协办回复", "co-handling reply"},
		workflows.UpdateRecordCallBack:      {"登记回访", "record call-back"},
		workflows.UpdateFlagJoint:           {"列入联查范围", "flag for joint investigation"},
		workflows.UpdateDecideJoint:         {"审批联查", "decide joint investigation"},
		workflows.UpdateRecordJointFindings: {"登记联查结论", "record joint findings"},
		workflows.UpdateAssignLeader:        {"领导包案", "assign leader in charge"},
	},
	KindStepKind: {
		string(calendar.StepStart):         {"起算日（不计入）", "start (not counted)"},
		string(calendar.StepCounted):       {"计入", "counted"},
		string(calendar.StepWeekend):       {"休息日，不计", "weekend, skipped"},
		string(calendar.StepHoliday):       {"法定节假日，不计", "public holiday, skipped"},
		string(calendar.StepMakeUpWorkday): {"调休上班日，计入", "make-up workday, counted"},
		string(calendar.StepRolledForward): {"期满日为休息日，顺延", "last day a rest day, rolled forward"},
		string(calendar.StepPause):         {"中止计时", "clock paused"},
		string(calendar.StepExtension):     {"延期", "extension"},
		string(calendar.StepNote):          {"说明", "note"},
		string(calendar.StepDue):           {"期限届满", "due"},
	},
}

// Of is the label of code in kind, in lang; an unknown code is shown as it is.
func Of(lang Lang, kind, code string) string {
	t, ok := table[kind][code]
	if !ok {
		return code
	}
	if lang == English {
		return t.en
	}
	return t.zh
}

// Zh is the Chinese label (exports, notices).
func Zh(kind, code string) string { return Of(Chinese, kind, code) }

// Codes lists the codes of a kind that have labels (for tests and pickers), unordered.
func Codes(kind string) []string {
	out := make([]string, 0, len(table[kind]))
	for code := range table[kind] {
		out = append(out, code)
	}
	return out
}
