package console

import (
	"fmt"

	"github.com/petitions/petitions/internal/labels"
)

// Console words: key → {简体中文, English}. Stored codes (stages, categories, …) are labelled
// by internal/labels, not here. Each page's file adds its own words with addMessages in an
// init function; a key defined twice panics at start (a test starts the console).
var messages = map[string][2]string{}

func addMessages(m map[string][2]string) {
	for k, v := range m {
		if _, dup := messages[k]; dup {
			panic(fmt.Sprintf("console: message %q defined twice", k))
		}
		messages[k] = v
	}
}

// msg is key's word in lang; a missing key shows as itself (and fails TestEveryMessageKeyExists).
func msg(lang labels.Lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if lang == labels.English {
		return m[1]
	}
	return m[0]
}

func init() {
	addMessages(map[string][2]string{
		"app.name":           {"信访事项办理系统", "Petitions"},
		"nav.home":           {"工作台", "Home"},
		"nav.cases":          {"查询", "Search"},
		"nav.register":       {"登记", "Register"},
		"nav.stats":          {"统计", "Statistics"},
		"nav.signout":        {"退出", "Sign out"},
		"nav.lang":           {"English", "中文"},
		"nav.skip":           {"跳到正文", "Skip to content"},
		"signin.title":       {"登录", "Sign in"},
		"signin.staff_id":    {"工号", "Staff ID"},
		"signin.password":    {"密码", "Password"},
		"signin.submit":      {"登录", "Sign in"},
		"signin.sso":         {"使用单位统一身份认证登录", "Sign in with the office account"},
		"signin.refused":     {"工号或密码不正确，或账号已停用。", "Wrong staff ID or password, or the account is disabled."},
		"signin.locked":      {"登录失败次数过多，请稍后再试。", "Too many failed sign-ins; try again later."},
		"signin.refreshing":  {"正在延续登录…", "Renewing your session…"},
		"signin.again":       {"请重新登录", "Please sign in again"},
		"signin.query":       {"信访人查询办理进度", "Petitioners: follow your case"},
		"error.title":        {"无法完成", "Could not be done"},
		"error.unavailable":  {"系统暂时不可用，请稍后重试。", "The service is unavailable for a moment; try again."},
		"error.back":         {"返回", "Back"},
		"home.title":         {"工作台", "Home"},
		"home.hello":         {"您好，%s（%s，%s）", "Hello, %s (%s, %s)"},
		"home.more":          {"查看全部", "See all"},
		"home.none":          {"暂无", "None"},
		"home.admin":         {"系统管理员不查阅案件内容；请使用管理接口（/api/v1/admin）维护账号、单位和时限规则。", "Administrators read no case content; use the admin API (/api/v1/admin) for accounts, units and policies."},
		"home.register":      {"登记信访事项", "Register a petition"},
		"q.today":            {"今日登记", "Registered by me today"},
		"q.awaiting":         {"待受理（按受理期限）", "Awaiting acceptance (by acceptance deadline)"},
		"q.awaiting_overdue": {"受理已逾期", "Acceptance overdue"},
		"q.mine":             {"我承办的事项（按到期日）", "My cases (by due date)"},
		"q.mine_week":        {"本周到期", "Due this week"},
		"q.mine_overdue":     {"我的逾期事项", "My overdue cases"},
		"q.unit":             {"本单位在办事项", "The unit's cases in handling"},
		"q.unit_awaiting":    {"待本单位受理", "Waiting for the unit to accept"},
		"q.extensions":       {"待审批延期申请", "Extension requests to decide"},
		"q.escalated_me":     {"升级督办至领导", "Escalations reaching me"},
		"q.ladder1":          {"逾期一级：通知单位负责人", "Overdue level 1: unit head notified"},
		"q.ladder2":          {"逾期二级：升级至包案领导", "Overdue level 2: escalated to the leader"},
		"q.ladder3":          {"逾期三级：升级至上级单位", "Overdue level 3: escalated to the superior unit"},
		"q.overdue_all":      {"全部逾期事项", "All overdue cases"},
		"q.review":           {"复查待决定", "Reviews to decide"},
		"q.re_review":        {"复核待决定", "Re-reviews to decide"},
		"col.case_no":        {"编号", "Case no."},
		"col.topic":          {"事由", "Topic"},
		"col.category":       {"类别", "Category"},
		"col.channel":        {"渠道", "Channel"},
		"col.stage":          {"状态", "Stage"},
		"col.unit":           {"承办单位", "Unit"},
		"col.handler":        {"承办人", "Handler"},
		"col.due":            {"到期日", "Due"},
		"col.received":       {"收件日期", "Received"},
		"col.registered":     {"登记时间", "Registered"},
		"col.level":          {"督办级别", "Level"},
		"overdue":            {"已逾期", "overdue"},
		"days_left":          {"剩%d天", "%d days left"},
		"days_over":          {"逾期%d天", "%d days overdue"},
		"due_today":          {"今日到期", "due today"},
		"count.capped":       {"%d+", "%d+"},
		"footer.office":      {"%s · 信访事项办理系统", "%s · Petitions"},
		"print":              {"打印", "Print"},
		"tag.group":          {"集体访", "group"},
		"tag.repeat":         {"重复", "repeat"},
	})
}
