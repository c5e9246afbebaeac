package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/petitions/petitions/internal/labels"
	"github.com/petitions/petitions/workflows"
)

// Printable notices (告知书): formal documents in Chinese, built from the case and the event the
// notice reports (the acceptance, the rejection, the reply). A notice whose event has not
// happened does not exist.

// noticeKinds in the order the case file links them.
var noticeKinds = []string{"acceptance", "rejection", "reply"}

// noticeEvent is the event each notice reports.
var noticeEvent = map[string]string{
	"acceptance": workflows.EventAccepted,
	"rejection":  workflows.EventRejected,
	"reply":      workflows.EventReplied,
}

// lastEvent is the latest event of a type, or nil.
func lastEvent(evs []workflows.Event, typ string) *workflows.Event {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == typ {
			return &evs[i]
		}
	}
	return nil
}

// noticeData is what notice.html prints.
type noticeData struct {
	Kind       string
	Title      string
	CaseNo     string
	NoLine     string
	Addressee  string
	Paragraphs []noticePara
	Signer     string
	Date       string
}

// noticePara is a paragraph; Quote marks text quoted from the case (an opinion, a reason).
type noticePara struct {
	Text  string
	Quote bool
}

// zh is a notice word (notices are in Chinese whatever the console's language).
func noticeZh(key string, args ...any) string {
	if len(args) == 0 {
		return msg(labels.Chinese, key)
	}
	return fmt.Sprintf(msg(labels.Chinese, key), args...)
}

// noticeDate is a day as notices write it: 2026年3月12日.
func noticeDate(t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(zone)
	return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}

// noticeLastDay is the last day of a deadline due at t: a deadline at 24:00 (00:00 of the next
// day) ends on the day before.
func noticeLastDay(t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return noticeDate(t.In(zone).Add(-time.Nanosecond), zone)
}

// noticeAddressee is the petitioner's name as the reader may see it, or 信访人.
func noticeAddressee(cs caseRow) string {
	var names []string
	for _, p := range cs.Petitioners {
		if n := strings.TrimSpace(p.Name); n != "" {
			names = append(names, n)
		}
	}
	switch {
	case len(names) == 0:
		return noticeZh("notice.petitioner")
	case len(names) > 3:
		return noticeZh("notice.and_others", strings.Join(names[:3], "、"), cs.GroupSize)
	case cs.GroupSize > len(names):
		return noticeZh("notice.and_others", strings.Join(names, "、"), cs.GroupSize)
	}
	return strings.Join(names, "、")
}

func noticeDetail(e *workflows.Event, key string) string {
	if e == nil {
		return ""
	}
	if s, ok := e.Details[key].(string); ok {
		return s
	}
	return ""
}

func noticeDetailTime(e *workflows.Event, key string) time.Time {
	t, _ := time.Parse(time.RFC3339, noticeDetail(e, key))
	return t
}

// buildNotice writes the notice of kind for the case; ev is the event it reports. unitName
// names a unit code.
func buildNotice(kind string, f caseFile, ev *workflows.Event, office string, zone *time.Location, unitName func(string) string) noticeData {
	cs := f.Case
	now := cfCurrent(f)
	n := noticeData{Kind: kind, Title: noticeZh("notice." + kind + ".title"), CaseNo: cs.CaseNo,
		NoLine: noticeZh("notice.no", cs.CaseNo), Addressee: noticeAddressee(cs),
		Signer: office, Date: noticeDate(ev.At, zone)}
	intro := noticeZh("notice.intro", noticeDate(cs.ReceivedAt, zone), cs.Topic, cs.CaseNo)
	p := func(text string) { n.Paragraphs = append(n.Paragraphs, noticePara{Text: text}) }
	q := func(text string) { n.Paragraphs = append(n.Paragraphs, noticePara{Text: text, Quote: true}) }
	switch kind {
	case "acceptance":
		unit := noticeDetail(ev, "unit")
		if unit == "" {
			unit = now.Unit
		}
		due := noticeDetailTime(ev, "due")
		if d := now.Deadline; d != nil && d.Clock == workflows.ClockHandling {
			due = d.Due // extended or moved since: the deadline as it stands
		}
		p(intro + noticeZh("notice.acceptance.body", noticeDate(ev.At, zone), unitName(unit)))
		if !due.IsZero() {
			p(noticeZh("notice.acceptance.due", unitName(unit), noticeLastDay(due, zone)))
		}
		p(noticeZh("notice.acceptance.query"))
		p(noticeZh("notice.hereby"))
	case "rejection":
		p(intro + noticeZh("notice.rejection.body"))
		q(noticeDetail(ev, "reason"))
		p(noticeZh("notice.rejection.where"))
		p(noticeZh("notice.hereby"))
	case "reply":
		unit := ev.Actor.Unit
		if unit == "" {
			unit = now.Unit
		}
		p(intro + noticeZh("notice.reply.body", unitName(unit)))
		q(noticeDetail(ev, "opinion"))
		p(noticeZh("notice.reply.evaluate"))
		p(noticeZh("notice.reply.review"))
		if d := now.Deadline; d != nil && d.Clock == workflows.ClockReviewRequest {
			p(noticeZh("notice.reply.window", noticeLastDay(d.Due, zone)))
		}
		p(noticeZh("notice.reply.hereby"))
	}
	return n
}

func (c *Console) noticePage(w http.ResponseWriter, r *http.Request, v *view) {
	kind := r.PathValue("kind")
	typ, ok := noticeEvent[kind]
	if !ok {
		c.problem(w, v, &apiError{Status: http.StatusNotFound, Message: v.T("notice.unknown")})
		return
	}
	file, _, evs, err, evErr := c.fetchCase(r, r.PathValue("no"))
	if err == nil {
		err = evErr
	}
	if err != nil {
		c.problem(w, v, err)
		return
	}
	ev := lastEvent(evs, typ)
	if ev == nil {
		c.problem(w, v, &apiError{Status: http.StatusNotFound, Message: v.T("notice.none." + kind)})
		return
	}
	n := buildNotice(kind, file, ev, c.cfg.Office, c.cfg.Zone, v.UnitName)
	v.Title = n.Title + " " + file.Case.CaseNo
	v.Nav = "cases"
	v.Data = map[string]any{"Notice": n, "Back": "/cases/" + url.PathEscape(file.Case.CaseNo)}
	c.render(w, http.StatusOK, "notice", v)
}
