package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/petitions/petitions/internal/labels"
	"github.com/petitions/petitions/internal/register"
)

// currentMonth is the first instant of the month containing now, in Asia/Shanghai: offices
// report by civil month in China, whatever the server's zone.
func currentMonth(now time.Time) time.Time {
	n := now.In(shanghai)
	return time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, shanghai)
}

// statsRange reads from/to (RFC 3339 or dates; a "to" date includes that day). Missing bounds
// default to the current month.
func (s *Server) statsRange(c *gin.Context) (from, to time.Time, unit string, err error) {
	q := c.Request.URL.Query()
	f := fieldErrors{}
	for name := range q {
		if name != "from" && name != "to" && name != "unit" {
			f[name] = "unknown parameter; known: from, to, unit"
		}
	}
	month := currentMonth(s.now())
	from, to = month, month.AddDate(0, 1, 0)
	if v := q.Get("from"); v != "" {
		if from, err = parseInstant(v, false); err != nil {
			f["from"] = err.Error()
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = parseInstant(v, true); err != nil {
			f["to"] = err.Error()
		}
	}
	if f["from"] == "" && f["to"] == "" && !from.Before(to) {
		f["to"] = "must be after from"
	}
	if len(f) > 0 {
		return from, to, "", f
	}
	unit = strings.TrimSpace(q.Get("unit"))
	if len(unit) > 64 || !validText(unit) {
		return from, to, "", fieldErrors{"unit": "is not a unit code"}
	}
	return from, to, unit, nil
}

func (s *Server) stats(c *gin.Context) {
	from, to, unit, err := s.statsRange(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	units, err := s.statsUnits(ctx, principal(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	if units != nil {
		// A unit's staff read their own figures: name a unit in scope, or get the first.
		switch {
		case unit == "" && len(units) > 0:
			unit = units[0]
		case !contains(units, unit):
			s.fail(c, &forbiddenError{"statistics of unit " + strconv.Quote(unit) + " are outside your scope; yours: " + strings.Join(units, ", ")})
			return
		}
	}
	st, err := s.reg.Stats(ctx, from, to, unit)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answer(c, http.StatusOK, st)
}

// csvHeader labels the monthly ledger's columns in Chinese with the English key, since the
// ledger goes to office staff who open it in Excel; the Excel file has the same header. New
// columns go at the end, so files read by column position stay readable.
var csvHeader = []string{
	"月份 month", "单位编码 unit", "单位 unit_name", "收件 received", "受理 accepted",
	"办结 closed", "按期办结 closed_on_time", "按期办结率 on_time_rate", "超期 overdue_now",
	"满意 satisfied", "参评 evaluated", "复查 reviews", "复核 re_reviews",
	"答复 answered", "参评率 participation_rate", "满意率 satisfaction_rate",
	"预警 warnings",
	// Skip-level and repeat petitions, the bureau's routines, the screening report (issue 13).
	"重复信访 repeat_petitions", "越级访 skip_level", "重复信访件 repeat_cases", "重复信访收件 repeat_submissions",
	"拟联查 joint_proposed", "批准联查 joint_approved", "不予联查 joint_declined", "联查办结 joint_concluded",
	"回访 called_back", "回访率 call_back_rate", "回访联系上 call_back_reached", "联系成功率 call_back_reached_rate",
	"回访评价 evaluated_by_call_back", "交办 assigned", "交办逾期未报 assignments_overdue",
	"排查应报 screening_rounds", "排查到期 screening_due", "按时报送 screening_on_time", "逾期报送 screening_late",
	"零报告 screening_zero", "逾期未报 screening_missed", "未报送 screening_pending", "按时报送率 screening_on_time_rate",
}

// topicHeader labels the Excel ledger's second sheet: each unit's first topics of the month
// (register.MonthlyRow.Topics), in topicCells' order.
var topicHeader = []string{
	"月份 month", "单位编码 unit", "单位 unit_name", "序号 rank", "事由 topic", "类别 category",
	"收件 received", "办结 closed", "超期 overdue_now", "参评 evaluated", "满意 satisfied", "满意率 satisfaction_rate",
}

// utf8BOM makes Excel read the file as UTF-8; without it Chinese unit names turn to mojibake.
const utf8BOM = "\uFEFF"

// monthlyRows reads ?month= (the current month by default) and the ledger's rows the signed-in
// person may read: every unit's for the petition office, their units' for a unit's staff.
func (s *Server) monthlyRows(c *gin.Context) (time.Time, []register.MonthlyRow, error) {
	month := currentMonth(s.now())
	q := c.Request.URL.Query()
	for name := range q {
		if name != "month" {
			return month, nil, fieldErrors{name: "unknown parameter; known: month"}
		}
	}
	if v := q.Get("month"); v != "" {
		m, err := time.ParseInLocation("2006-01", v, shanghai)
		if err != nil {
			return month, nil, fieldErrors{"month": "must be YYYY-MM, e.g. 2026-05"}
		}
		// The month's last instant too: December 9999 ends in the year 10000.
		if !inYearRange(m) || !inYearRange(m.AddDate(0, 1, 0).Add(-time.Nanosecond)) {
			return month, nil, fieldErrors{"month": errYearRange.Error()}
		}
		month = m
	}
	ctx := c.Request.Context()
	units, err := s.statsUnits(ctx, principal(c))
	if err != nil {
		return month, nil, err
	}
	rows, err := s.reg.MonthlyReport(ctx, month)
	if err != nil {
		return month, nil, err
	}
	if units != nil {
		// Reads are scoped like writes: a unit's staff get their units' rows only.
		kept := rows[:0]
		for _, r := range rows {
			if contains(units, r.Unit) {
				kept = append(kept, r)
			}
		}
		rows = kept
	}
	if rows == nil {
		rows = []register.MonthlyRow{}
	}
	return month, rows, nil
}

// monthlyReportJSON answers the monthly ledger's rows as JSON: the CSV's rows, by field.
func (s *Server) monthlyReportJSON(c *gin.Context) {
	month, rows, err := s.monthlyRows(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answer(c, http.StatusOK, gin.H{"month": month.Format("2006-01"), "rows": rows})
}

func (s *Server) monthlyReport(c *gin.Context) {
	month, rows, err := s.monthlyRows(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	body, err := monthlyCSV(rows)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="petitions-`+month.Format("2006-01")+`.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", body)
}

// monthlyReportXLSX answers the monthly ledger as an Excel workbook, with the CSV's header.
func (s *Server) monthlyReportXLSX(c *gin.Context) {
	month, rows, err := s.monthlyRows(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	cells := make([][]exportCell, len(rows))
	var topics [][]exportCell
	for i, r := range rows {
		cells[i] = monthlyCells(r)
		topics = append(topics, topicCells(r)...)
	}
	body, err := xlsxBook(xlsxSheet{"月度台账", csvHeader, cells}, xlsxSheet{"热点事项", topicHeader, topics})
	if err != nil {
		s.fail(c, err)
		return
	}
	m := month.Format("2006-01")
	s.sendFile(c, "信访台账-"+m, "petitions-"+m, formatXLSX, body)
}

// monthlyCells is one ledger row in csvHeader's order: counts as numbers, rates as decimals
// of four places (as text in the CSV).
func monthlyCells(r register.MonthlyRow) []exportCell {
	rate := func(v float64) exportCell { return exportCell{rate: &v} }
	return []exportCell{
		textCell(r.Month), textCell(r.Unit), textCell(r.UnitName), numCell(r.Received), numCell(r.Accepted),
		numCell(r.Closed), numCell(r.ClosedOnTime), rate(r.OnTimeRate), numCell(r.OverdueNow),
		numCell(r.Satisfied), numCell(r.Evaluated), numCell(r.Reviews), numCell(r.ReReviews),
		numCell(r.Answered), rate(r.ParticipationRate), rate(r.SatisfactionRate),
		numCell(r.Warnings),
		numCell(r.RepeatPetitions), numCell(r.SkipLevel), numCell(r.RepeatCases), numCell(r.RepeatSubmissions),
		numCell(r.JointProposed), numCell(r.JointApproved), numCell(r.JointDeclined), numCell(r.JointConcluded),
		numCell(r.CalledBack), rate(r.CallBackRate), numCell(r.CallBackReached), rate(r.CallBackReachedRate),
		numCell(r.EvaluatedByCallBack), numCell(r.Assigned), numCell(r.AssignmentsOverdue),
		numCell(r.ScreeningRounds), numCell(r.ScreeningDue), numCell(r.ScreeningOnTime), numCell(r.ScreeningLate),
		numCell(r.ScreeningZero), numCell(r.ScreeningMissed), numCell(r.ScreeningPending), rate(r.ScreeningOnTimeRate),
	}
}

// topicCells are a ledger row's topics in topicHeader's order, the category in Chinese.
func topicCells(r register.MonthlyRow) [][]exportCell {
	out := make([][]exportCell, len(r.Topics))
	for i, t := range r.Topics {
		satisfaction := t.SatisfactionRate
		out[i] = []exportCell{
			textCell(r.Month), textCell(r.Unit), textCell(r.UnitName), numCell(i + 1), textCell(t.Topic),
			textCell(labels.Zh(labels.KindCategory, t.Category)), numCell(t.Received), numCell(t.Closed),
			numCell(t.OverdueNow), numCell(t.Evaluated), numCell(t.Satisfied), {rate: &satisfaction},
		}
	}
	return out
}

func monthlyCSV(rows []register.MonthlyRow) ([]byte, error) {
	cells := make([][]exportCell, len(rows))
	for i, r := range rows {
		cells[i] = monthlyCells(r)
	}
	return csvFile(csvHeader, cells)
}

// cellText defuses spreadsheet formulas: a text cell starting with = + - @ would be run by
// Excel (CSV injection), so it is prefixed with an apostrophe.
func cellText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
