package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"github.com/petitions/petitions/internal/labels"
	"github.com/petitions/petitions/internal/register"
)

// Exports: the case list (GET /api/v1/petitions?format=csv|xlsx) and the monthly ledger
// (/reports/monthly.csv, /reports/monthly.xlsx) as files for office staff, who open them in
// Excel. Headers and codes are in Chinese (internal/labels), instants in the office's zone to
// the minute. A list export carries no petitioner and no free text (content, location): it
// leaves the system as a file, and personal data stays in the register.

const (
	mimeCSV  = "text/csv; charset=utf-8"
	mimeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	// exportTimeLayout is how an export writes instants: to the minute, in the office's zone.
	exportTimeLayout = "2006-01-02 15:04"
	// headerExportCapped says that an export holds the first register.ExportCap cases of a
	// longer list; headerExportRows how many it holds.
	headerExportCapped = "X-Export-Capped"
	headerExportRows   = "X-Export-Rows"
)

// caseExportHeader are the columns of a list export, in Chinese, in caseExportRow's order.
var caseExportHeader = []string{
	"编号", "登记时间", "收件时间", "渠道", "类别", "事项", "阶段", "承办单位", "建议承办单位",
	"承办人", "包案领导", "登记人", "办理期限", "是否逾期", "督办级别", "受理时间", "答复时间",
	"办结时间", "满意度评价", "重复信访次数",
}

// exportCell is one cell: text, a count or a rate (numbers are numbers in Excel; a rate is
// written to four decimal places).
type exportCell struct {
	text string
	num  *int
	rate *float64
}

func textCell(s string) exportCell { return exportCell{text: s} }
func numCell(n int) exportCell     { return exportCell{num: &n} }

// caseExportRow is one case's line.
func (s *Server) caseExportRow(c register.Case, unitNames map[string]string) []exportCell {
	at := func(t *time.Time) exportCell {
		if t == nil || t.IsZero() {
			return textCell("")
		}
		return textCell(t.In(s.zone).Format(exportTimeLayout))
	}
	unit := func(code string) exportCell {
		if name := unitNames[code]; name != "" {
			return textCell(name)
		}
		return textCell(code)
	}
	overdue := "否"
	if c.Overdue {
		overdue = "是"
	}
	evaluation := ""
	if c.Evaluation != "" {
		evaluation = labels.Zh(labels.KindEvaluation, c.Evaluation)
	}
	return []exportCell{
		textCell(c.CaseNo), at(&c.RegisteredAt), at(&c.ReceivedAt),
		textCell(labels.Zh(labels.KindChannel, c.Channel)), textCell(labels.Zh(labels.KindCategory, c.Category)),
		textCell(c.Topic), textCell(labels.Zh(labels.KindStage, c.Stage)), unit(c.Unit), unit(c.SuggestedUnit),
		textCell(c.Handler), textCell(c.Leader), textCell(c.RegisteredBy), at(c.DueAt), textCell(overdue),
		numCell(c.EscalationLevel), at(c.AcceptedAt), at(c.RepliedAt), at(c.ClosedAt), textCell(evaluation),
		numCell(c.RepeatCount),
	}
}

// cappedNote closes an export that holds only the first register.ExportCap cases.
var cappedNote = fmt.Sprintf("仅导出前 %d 条：符合条件的事项更多，请缩小筛选范围后再导出", register.ExportCap)

// exportPetitions answers the whole list lf selects (in list order, at most
// register.ExportCap cases) as a CSV or Excel file.
func (s *Server) exportPetitions(c *gin.Context, lf register.ListFilter, format string) {
	ctx := c.Request.Context()
	cases, capped, err := s.reg.Export(ctx, lf, register.ExportCap)
	if err != nil {
		s.fail(c, err)
		return
	}
	units, err := s.reg.Units(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	names := make(map[string]string, len(units))
	for _, u := range units {
		names[u.Code] = u.Name
	}
	rows := make([][]exportCell, 0, len(cases)+1)
	for _, cs := range cases {
		rows = append(rows, s.caseExportRow(cs, names))
	}
	if capped {
		rows = append(rows, []exportCell{textCell(cappedNote)})
	}
	var body []byte
	if format == formatXLSX {
		body, err = xlsxFile("信访事项", caseExportHeader, rows)
	} else {
		body, err = csvFile(caseExportHeader, rows)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header(headerExportRows, strconv.Itoa(len(cases)))
	c.Header(headerExportCapped, strconv.FormatBool(capped))
	today := s.now().In(s.zone).Format("20060102")
	s.sendFile(c, "信访事项-"+today, "petitions-"+today, format, body)
}

// sendFile answers a download: name (UTF-8) and asciiName (for clients without RFC 5987)
// without extension; format is formatCSV or formatXLSX.
func (s *Server) sendFile(c *gin.Context, name, asciiName, format string, body []byte) {
	mime := mimeCSV
	if format == formatXLSX {
		mime = mimeXLSX
	}
	c.Header("Content-Disposition", contentDisposition(asciiName+"."+format, name+"."+format))
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, mime, body)
}

// contentDisposition is an attachment named name, with asciiName as the plain filename for
// clients that do not read RFC 5987's filename* (RFC 6266).
func contentDisposition(asciiName, name string) string {
	return `attachment; filename="` + asciiName + `"; filename*=UTF-8''` + rfc5987(name)
}

// rfc5987 percent-encodes every byte of s that is not an attr-char of RFC 5987.
func rfc5987(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("!#$&+-.^_`|~", ch) >= 0 {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}

// csvFile is a UTF-8 CSV with a byte-order mark (Excel reads it as UTF-8 only then) and CRLF
// line ends. Text cells are defused against formulas (cellText).
func csvFile(header []string, rows [][]exportCell) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(utf8BOM)
	w := csv.NewWriter(&buf)
	w.UseCRLF = true // what Excel writes and expects
	if err := w.Write(header); err != nil {
		return nil, err
	}
	for _, r := range rows {
		rec := make([]string, len(r))
		for i, cell := range r {
			switch {
			case cell.num != nil:
				rec[i] = strconv.Itoa(*cell.num)
			case cell.rate != nil:
				rec[i] = strconv.FormatFloat(*cell.rate, 'f', 4, 64)
			default:
				rec[i] = cellText(cell.text)
			}
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// xlsxFile is an Excel workbook of one sheet: a bold header row, then the rows. Text goes in
// as text cells (never formulas), numbers as numbers.
func xlsxFile(sheet string, header []string, rows [][]exportCell) ([]byte, error) {
	return xlsxBook(xlsxSheet{sheet, header, rows})
}

// xlsxSheet is one sheet of a workbook: its name, header and rows.
type xlsxSheet struct {
	name   string
	header []string
	rows   [][]exportCell
}

// xlsxBook is an Excel workbook of the sheets, in order, each written as xlsxFile writes its one.
func xlsxBook(sheets ...xlsxSheet) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	for i, sheet := range sheets {
		if i == 0 {
			err = f.SetSheetName("Sheet1", sheet.name)
		} else {
			_, err = f.NewSheet(sheet.name)
		}
		if err != nil {
			return nil, err
		}
		if err := xlsxSheetRows(f, sheet, bold); err != nil {
			return nil, err
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// xlsxSheetRows streams one sheet's header (in style bold) and rows into f.
func xlsxSheetRows(f *excelize.File, sheet xlsxSheet, bold int) error {
	sw, err := f.NewStreamWriter(sheet.name)
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, len(sheet.header), 16); err != nil {
		return err
	}
	head := make([]any, len(sheet.header))
	for i, h := range sheet.header {
		head[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", head, excelize.RowOpts{}); err != nil {
		return err
	}
	for n, r := range sheet.rows {
		vals := make([]any, len(r))
		for i, cell := range r {
			switch {
			case cell.num != nil:
				vals[i] = *cell.num
			case cell.rate != nil:
				vals[i] = math.Round(*cell.rate*1e4) / 1e4
			default:
				vals[i] = cell.text
			}
		}
		ref, err := excelize.CoordinatesToCellName(1, n+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(ref, vals); err != nil {
			return err
		}
	}
	return sw.Flush()
}
