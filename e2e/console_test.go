package e2e

// Browser tests of the staff console (internal/console): headless Chromium driven by chromedp
// against the real stack, as clerks, handlers, leaders, supervisors and petitioners use it.
// Every test saves screenshots to the artefact folder ($PETITIONS_TEST_ARTEFACTS, default
// .artefacts/console at the repository's root). With PETITIONS_UPDATE_SCREENSHOTS=1 the README's
// screenshots (docs/screenshots/) are taken again.
//
// Chromium comes from Debian (`chromium`, with `fonts-noto-cjk` for the Chinese); .ci/run
// installs both. Without a browser the tests are skipped, unless PETITIONS_REQUIRE_BROWSER=1
// (set by .ci/run), when they fail.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

// browser is one person's browser: its own profile, so its own cookies.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("PETITIONS_REQUIRE_BROWSER") == "1" {
			t.Fatal("no Chromium found (Debian package chromium); .ci/run installs it")
		}
		t.Skip("no Chromium on this machine (Debian package chromium): console browser tests skipped")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(1366, 768),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 6*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx}
	// The first run starts the browser: it gets the test's context, not a step's.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return b
}

// css is a CSS selector (chromedp's plain strings are DOM searches).
type css = chromedp.CSS

// stepTimeout bounds one run of actions: a missing element fails the test instead of waiting
// for the test's whole budget.
const stepTimeout = 30 * time.Second

func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failure")
		b.t.Fatalf("browser: %v", err)
	}
}

// value runs an action that answers a value.
func browserValue[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.shot("failure")
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// media switches the emulated CSS media ("print", or "" for the screen).
func media(m string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
		return err
	})
}

// artefacts is where screenshots go.
func artefacts(t *testing.T) string {
	dir := os.Getenv("PETITIONS_TEST_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join("..", ".artefacts", "console")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shot saves a full-page screenshot as <test>-<name>.png in the artefact folder.
func (b *browser) shot(name string) string {
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	file := filepath.Join(artefacts(b.t), strings.ReplaceAll(b.t.Name(), "/", "_")+"-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
	b.t.Logf("screenshot: %s", file)
	return file
}

// readmeShot saves the current page as a README screenshot when asked to.
func (b *browser) readmeShot(name string) {
	if os.Getenv("PETITIONS_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	png := browserValue(b, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(baseURL+path), chromedp.WaitReady(css("body")))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return browserValue(b, chromedp.Text(css(sel)))
}

// textNow reads an element's text without failing the test: while a page is being replaced
// (a form's answer arriving) the element may be gone for a moment; pollers try again.
func (b *browser) textNow(sel string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
	if err != nil {
		return ""
	}
	return s
}

func eval[T any](b *browser, js string) T {
	b.t.Helper()
	return browserValue(b, chromedp.Evaluate[T](js))
}

// signIn signs in through the console's form, as a person does.
func (b *browser) signIn(staffID string) {
	b.t.Helper()
	b.open("/")
	b.run(
		chromedp.WaitVisible(css("#staff_id")),
		chromedp.SendKeys(css("#staff_id"), staffID),
		chromedp.SendKeys(css("#password"), "petitions-dev"),
		chromedp.Submit(css("#password")),
		chromedp.WaitVisible(css("header .who")),
	)
}

// wantText fails unless the page's body contains every string.
func (b *browser) wantText(what ...string) {
	b.t.Helper()
	body := b.text("body")
	for _, w := range what {
		if !strings.Contains(body, w) {
			b.shot("missing-text")
			b.t.Fatalf("the page lacks %q; it shows:\n%s", w, truncate([]byte(body), 1500))
		}
	}
}

// waitText waits until the page (reloaded every half second) contains s.
func (b *browser) waitText(path, s string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b.open(path)
		if strings.Contains(b.textNow("body"), s) {
			return
		}
		if time.Now().After(deadline) {
			b.shot("timeout")
			b.t.Fatalf("%s never showed %q", path, s)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// act submits a case-file action form: fields are CSS selectors (within the form) → values;
// a select is set, a radio or checkbox clicked, text typed.
func (b *browser) act(caseNo, action string, fields map[string]string) {
	b.t.Helper()
	b.open("/cases/" + caseNo)
	form := "#act-" + action
	b.run(chromedp.WaitVisible(css(form)))
	for sel, v := range fields {
		full := form + " " + sel
		if strings.HasPrefix(sel, "#") || strings.HasPrefix(sel, "select#") {
			full = sel
		}
		switch {
		case strings.HasPrefix(sel, "select"):
			b.run(chromedp.SetValue(css(full), v))
		case strings.Contains(sel, "[type=radio]"), strings.Contains(sel, "[type=checkbox]"):
			b.run(chromedp.Click(css(full)))
		default:
			b.run(chromedp.SendKeys(css(full), v))
		}
	}
	b.run(chromedp.Click(css("#act-"+action+"-submit")), chromedp.WaitVisible(css(".flash")))
	if cls := b.attr(".flash", "class"); strings.Contains(cls, "error") {
		b.shot("action-refused")
		b.t.Fatalf("%s on %s refused: %s", action, caseNo, b.text(".flash"))
	}
}

func (b *browser) attr(sel, name string) string {
	return browserValue(b, chromedp.AttributeValue(css(sel), name)).Value
}

// A clerk registers a petition through the form using the keyboard only, sees the routing
// suggestion while typing the topic, and prints the receipt; the clerk accepts it in the case
// file, the handler replies, the petitioner evaluates on the query page: the case is closed
// without a terminal.
func TestConsoleCaseFromRegistrationToClosure(t *testing.T) {
	clerkB := newBrowser(t)
	clerkB.signIn(clerk)
	clerkB.shot("home")
	clerkB.open("/register")
	clerkB.run(chromedp.WaitVisible(css("#register-form")))

	// Every field has a label, and Tab reaches the submit button from the first field.
	unlabelled := eval[[]string](clerkB, `Array.from(document.querySelectorAll('#register-form input:not([type=hidden]), #register-form select, #register-form textarea'))
		.filter(e => !e.labels || e.labels.length === 0).map(e => e.name || e.id)`)
	if len(unlabelled) > 0 {
		t.Fatalf("fields without a label: %v", unlabelled)
	}
	phone := fmt.Sprintf("137%08d", time.Now().UnixNano()%1e8)
	topic := "小区违章建筑 illegal construction " + phone
	clerkB.run(
		chromedp.SetValue(css("#channel"), "visit"),
		chromedp.SetValue(css("#category"), "appeal"),
		chromedp.Focus(css("#topic")),
		chromedp.KeyEvent(topic),
		chromedp.WaitVisible(css("#routing-suggestion")),
	)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(clerkB.textNow("#routing-suggestion"), "区") && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if s := clerkB.text("#routing-suggestion"); !strings.Contains(s, "区") {
		t.Fatalf("no routing suggestion while typing the topic: %q", s)
	}
	clerkB.run(
		chromedp.Focus(css("#content")), chromedp.KeyEvent("邻居在小区内搭建违章建筑，影响通行。"),
		chromedp.Focus(css("#petitioners-0-name")), chromedp.KeyEvent("张秀英"),
		chromedp.Focus(css("#petitioners-0-phone")), chromedp.KeyEvent(phone),
	)
	// Tab from the first field until the submit button has the focus.
	clerkB.run(chromedp.Focus(css("#channel")))
	reached := false
	for range 80 {
		clerkB.run(chromedp.KeyEvent(kb.Tab))
		if id := eval[string](clerkB, `document.activeElement ? document.activeElement.id : ""`); id == "register-submit" {
			reached = true
			break
		}
	}
	if !reached {
		clerkB.shot("tab-order")
		t.Fatal("Tab never reached the submit button (#register-submit)")
	}
	clerkB.shot("form")
	clerkB.run(chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css("#receipt")))
	caseNo := strings.TrimSpace(clerkB.text("#receipt-case-no"))
	code := strings.TrimSpace(clerkB.text("#receipt-query-code"))
	if !strings.HasPrefix(caseNo, fmt.Sprint(time.Now().Year())+"-") || len(code) < 6 {
		t.Fatalf("receipt: case %q code %q", caseNo, code)
	}
	clerkB.shot("receipt")
	// The receipt prints: the PDF has a page, and print media hide the navigation.
	pdf := browserValue(clerkB, chromedp.PrintToPDF())
	if len(pdf) < 1000 || !strings.HasPrefix(string(pdf), "%PDF") {
		t.Fatalf("receipt did not print (%d bytes)", len(pdf))
	}
	_ = os.WriteFile(filepath.Join(artefacts(t), "receipt.pdf"), pdf, 0o644)
	clerkB.run(media("print"))
	navShown := eval[bool](clerkB, `getComputedStyle(document.querySelector('header.top')).display !== 'none'`)
	clerkB.run(media(""))
	if navShown {
		t.Fatal("the navigation prints on the receipt")
	}

	// The clerk accepts it into the construction bureau with its handler.
	clerkB.act(caseNo, "accept", map[string]string{
		"select#accept-unit": "construction", "select#accept-handler": "handler.construction",
	})
	clerkB.wantText("办理中")

	// The handler finds it among their cases and replies.
	h := newBrowser(t)
	h.signIn("handler.construction")
	h.wantText(caseNo)
	h.act(caseNo, "reply", map[string]string{"#reply-opinion": "经核查，违章建筑已责令限期拆除。"})
	h.wantText("已答复")
	h.shot("replied")

	// The petitioner evaluates on the query page with the number and code from the receipt.
	p := newBrowser(t)
	p.open("/query")
	p.run(
		chromedp.SendKeys(css("#q-no"), caseNo),
		chromedp.SendKeys(css("#q-code"), code),
		chromedp.Click(css("#q-submit")),
		chromedp.WaitVisible(css("#pub-evaluate")),
		chromedp.Click(css("#pub-evaluation-satisfied")),
		chromedp.Click(css("#pub-evaluate-submit")),
	)
	// The page comes back from the action's answer: the case is closed.
	eventually(t, 20*time.Second, "the query page to show the case closed", func() bool {
		return strings.Contains(p.textNow("body"), "已办结")
	})
	p.shot("evaluated")
	waitRegister(t, caseNo, "closed")
	clerkB.waitText("/cases/"+caseNo, "已办结", 20*time.Second)
	clerkB.wantText("满意度评价", "答复")
	clerkB.shot("closed")
	clerkB.readmeShot("case-file")
}

// A leader approves the handler's extension request from the queue on the home page.
func TestConsoleLeaderApprovesExtension(t *testing.T) {
	r := registerCase(t, "default", petitioner(), "违章建筑 extension in the console")
	act(t, r.CaseNo, "accept", map[string]any{"unit": "construction", "handler": "handler.construction"}, http.StatusOK)
	code := callRaw(t, "POST", "/api/v1/petitions/"+r.CaseNo+"/request-extension",
		map[string]any{"days": 10, "reason": "需要现场勘验"}, nil, bearer(t, "handler.construction")...)
	if code != http.StatusOK {
		t.Fatalf("request extension: %d", code)
	}
	waitRegisterExtension(t, r.CaseNo)

	b := newBrowser(t)
	b.signIn("head.construction")
	b.run(chromedp.WaitVisible(css("#q-q\\.extensions")))
	b.wantText(r.CaseNo)
	b.shot("home")
	b.act(r.CaseNo, "decide_extension", map[string]string{"#decide_extension-approved-yes[type=radio]": "", "#decide_extension-reason": "同意"})
	b.shot("approved")
	wantEvents(t, r.CaseNo, "extension_decided")
	st := getCase(t, r.CaseNo).State
	if st == nil || st.PendingExtension != nil || !st.ExtensionUsed || st.Deadline == nil || len(st.Deadline.Extensions) != 1 {
		t.Fatalf("after approval: %+v", st)
	}
}

// waitRegisterExtension waits until the register lists the case among pending extensions.
func waitRegisterExtension(t *testing.T, caseNo string) {
	t.Helper()
	eventually(t, 20*time.Second, caseNo+" with a pending extension in the register", func() bool {
		var page struct {
			Cases []struct {
				CaseNo string `json:"case_no"`
			} `json:"cases"`
		}
		callRaw(t, "GET", "/api/v1/petitions?extension_pending=true&limit=500", nil, &page, bearer(t, "head.construction")...)
		for _, c := range page.Cases {
			if c.CaseNo == caseNo {
				return true
			}
		}
		return false
	})
}

// A supervisor finds an overdue case on the ladder board; a handler of another unit cannot see
// the case at all; the Chinese labels render with a CJK font.
func TestConsoleSupervisorLadderAndScope(t *testing.T) {
	r := registerCase(t, "e2e_fast", petitioner(), "违章建筑 overdue in the console")
	eventually(t, 60*time.Second, r.CaseNo+" escalated", func() bool {
		return getCase(t, r.CaseNo).Case.EscalationLevel >= 1
	})
	s := newBrowser(t)
	s.signIn(supervisor)
	s.wantText("工作台", "逾期", r.CaseNo)
	red := eval[string](s, fmt.Sprintf(`(() => { const a = Array.from(document.querySelectorAll('tr.overdue a')).find(a => a.textContent.trim() === %q); return a ? getComputedStyle(a).color : ''; })()`, r.CaseNo))
	if red == "" {
		s.shot("ladder")
		t.Fatalf("%s is not shown as overdue on the ladder board", r.CaseNo)
	}
	cjk := eval[bool](s, `document.fonts.check('16px "Noto Sans CJK SC"', '督办')`)
	if !cjk {
		t.Fatal(`the CJK font "Noto Sans CJK SC" is not available (Debian fonts-noto-cjk)`)
	}
	s.shot("ladder")
	s.readmeShot("home-supervisor")
	// English is one click away, and back.
	s.run(chromedp.Click(css("a.lang")), chromedp.WaitVisible(css("header .who")))
	s.wantText("Overdue level 1", "Hello, ")
	s.shot("english")
	s.run(chromedp.Click(css("a.lang")), chromedp.WaitVisible(css("header .who")))
	s.wantText("逾期一级")
	s.open("/cases/" + r.CaseNo)
	s.wantText(r.CaseNo, "逾期")
	s.run(chromedp.WaitVisible(css("#clock")), chromedp.WaitVisible(css("#timeline")))
	if href := s.attr("#temporal-link", "href"); !strings.Contains(href, "petition-"+r.CaseNo) {
		t.Fatalf("no Web UI link for the supervisor: %q", href)
	}
	s.shot("case-file")

	other := newBrowser(t)
	other.signIn("handler.health")
	other.open("/cases/" + r.CaseNo)
	other.wantText("404")
	if strings.Contains(other.text("main"), "违章建筑 overdue") {
		t.Fatal("another unit's handler sees the case's topic")
	}
	other.open("/cases?q=" + r.CaseNo)
	if strings.Contains(other.text("main"), r.CaseNo) {
		other.shot("search")
		t.Fatal("another unit's handler finds the case by its number")
	}
	other.shot("not-found")
}

// The statistics page draws its charts (ECharts canvases) and offers the ledger downloads.
func TestConsoleStatistics(t *testing.T) {
	b := newBrowser(t)
	b.signIn(supervisor)
	b.open("/stats")
	b.run(chromedp.WaitVisible(css("#stats-figures")))
	var canvases int
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		canvases = eval[int](b, `document.querySelectorAll('#chart-channel canvas, #chart-trend canvas, #chart-ontime canvas').length`)
		if canvases >= 3 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if canvases < 3 {
		b.shot("charts")
		t.Fatalf("charts drawn: %d of 3", canvases)
	}
	b.shot("stats")
	b.readmeShot("statistics")
}

// A group petition (5 people) is proposed for joint investigation (联查) by the system itself,
// from its group warning (criterion 2, skip_group_long). The supervisor finds it on the home
// page under 拟联查 and opens it: the criterion shows, marked 系统提出. A leader of the petition
// office finds it among the joint investigations to decide and approves it from the case page
// with a team of two units (checkboxes, sent as the JSON array units); the team's other unit
// then finds it among the cases it investigates jointly.
func TestConsoleJointInvestigation(t *testing.T) {
	var r registered
	code := call(t, "POST", "/api/v1/petitions", map[string]any{
		"channel": "visit", "category": "appeal", "topic": "construction wages, a group in the console",
		"content": "工地拖欠工资，五人集体来访 wages unpaid", "petitioners": []any{petitioner()},
		"group_size": 5, "policy": "default",
	}, &r)
	if code != http.StatusCreated {
		t.Fatalf("register: status %d", code)
	}
	act(t, r.CaseNo, "accept", map[string]any{"unit": "construction", "handler": "handler.construction"}, http.StatusOK)
	eventually(t, 20*time.Second, r.CaseNo+" proposed for joint investigation in the register", func() bool {
		return listed(t, "joint=proposed", r.CaseNo)
	})

	s := newBrowser(t)
	s.signIn(supervisor)
	s.run(chromedp.WaitVisible(css("#q-q\\.joint_proposed")))
	if q := s.text(`section[aria-labelledby="q-q.joint_proposed"]`); !strings.Contains(q, r.CaseNo) {
		s.shot("home")
		t.Fatalf("the supervisor's 拟联查 queue lacks %s: %s", r.CaseNo, q)
	}
	s.open("/cases/" + r.CaseNo)
	s.run(chromedp.WaitVisible(css("#joint")))
	if st := s.attr("#joint-status", "data-status"); st != "proposed" {
		t.Fatalf("joint status %q, want proposed", st)
	}
	if crit := s.text("#joint-criteria"); !strings.Contains(crit, "越级访、集体访、上访老户") || !strings.Contains(crit, "系统提出") {
		s.shot("case-proposed")
		t.Fatalf("the criterion is not shown as the system's: %s", crit)
	}
	s.wantText("拟联查", "列入联查范围") // the supervisor may add a criterion of their own
	s.shot("case-proposed")

	l := newBrowser(t)
	l.signIn("leader.petition_office")
	l.run(chromedp.WaitVisible(css("#q-q\\.joint_leader")))
	if q := l.text(`section[aria-labelledby="q-q.joint_leader"]`); !strings.Contains(q, r.CaseNo) {
		l.shot("home")
		t.Fatalf("the office leader's queue lacks %s: %s", r.CaseNo, q)
	}
	l.open("/cases/" + r.CaseNo)
	l.run(chromedp.WaitVisible(css("#act-decide_joint_investigation")))
	if !eval[bool](l, `document.querySelector('#decide_joint_investigation-units-construction').checked`) {
		t.Fatal("the handling unit is not ticked for the team")
	}
	unlabelled := eval[[]string](l, `Array.from(document.querySelectorAll('#act-decide_joint_investigation input:not([type=hidden]), #act-decide_joint_investigation textarea'))
		.filter(e => !e.labels || e.labels.length === 0).map(e => e.id)`)
	if len(unlabelled) > 0 {
		t.Fatalf("fields without a label: %v", unlabelled)
	}
	l.shot("decide")
	l.act(r.CaseNo, "decide_joint_investigation", map[string]string{
		"#decide_joint_investigation-approved-yes[type=radio]":    "",
		"#decide_joint_investigation-units-health[type=checkbox]": "",
		"#decide_joint_investigation-reason":                      "集体访，需卫健部门共同核查",
	})
	l.wantText("已作出联查审批决定")
	wantEvents(t, r.CaseNo, "joint_decided")
	st := getCase(t, r.CaseNo).State
	if st == nil || st.Joint == nil || st.Joint.Status != workflows.JointApproved ||
		strings.Join(st.Joint.Team, ",") != "construction,health" {
		t.Fatalf("after the decision: %+v", st)
	}
	l.waitText("/cases/"+r.CaseNo, "联查中", 20*time.Second)
	if team := l.text("#joint-team"); !strings.Contains(team, "区住房和城乡建设局、区卫生健康局") {
		t.Fatalf("team shown as %q", team)
	}
	l.wantText("集体访，需卫健部门共同核查")
	l.shot("approved")

	// The health bureau's staff now see the case among those their unit investigates jointly.
	eventually(t, 20*time.Second, r.CaseNo+" listed for the health bureau", func() bool {
		var page struct {
			Cases []struct {
				CaseNo string `json:"case_no"`
			} `json:"cases"`
		}
		callRaw(t, "GET", "/api/v1/petitions?involved_unit=health&joint=approved&limit=500", nil, &page, bearer(t, "handler.health")...)
		for _, c := range page.Cases {
			if c.CaseNo == r.CaseNo {
				return true
			}
		}
		return false
	})
}

// A clerk runs a leader's reception day (领导接访日) from the console, keyboard and forms only:
// publishes leader.petition_office's day for today from the schedule page, books a petitioner
// for a new matter on the day's page, records the visit received with the registration's fields
// (category, content) and gets the receipt with the new case's number and query code; the case
// file shows the day's leader as the leader in charge (包案领导); the leader's reception record
// lists the case. Every field of the three forms has a label.
func TestConsoleReceptionDay(t *testing.T) {
	const dayLeader, leaderName = "leader.petition_office", "李国强"
	today := time.Now().In(calendar.Location()).Format(time.DateOnly)
	place := fmt.Sprintf("区信访局一楼接待室 %d", time.Now().UnixNano()%1e6)
	pet := petitioner()
	name, phone := "孙某接访控制台", pet["phone"].(string)
	// The appointment's name and phone must never reach Temporal or the logs (zz_sealed_test).
	collectSecrets("POST", "", map[string]any{"petitioners": []any{map[string]any{"name": name, "phone": phone}}})
	unlabelled := func(b *browser, form string) []string {
		return eval[[]string](b, `Array.from(document.querySelectorAll('`+form+` input:not([type=hidden]), `+form+` select, `+form+` textarea'))
			.filter(e => !e.labels || e.labels.length === 0).map(e => e.name || e.id)`)
	}

	b := newBrowser(t)
	b.signIn(clerk)
	b.run(chromedp.Click(css("#nav-reception")), chromedp.WaitVisible(css("#rc-publish-form")))
	if miss := unlabelled(b, "main"); len(miss) > 0 {
		t.Fatalf("schedule fields without a label: %v", miss)
	}
	b.run(
		chromedp.SetValue(css("select#day-leader"), dayLeader),
		chromedp.SetValue(css("#day-day"), today),
		chromedp.SetValue(css("#day-start_time"), "08:30"),
		chromedp.SetValue(css("#day-end_time"), "17:30"),
		chromedp.Focus(css("#day-place")), chromedp.KeyEvent(place),
		chromedp.Focus(css("#day-subjects")), chromedp.KeyEvent("城建、拆迁安置、物业"),
	)
	b.shot("publish")
	b.run(chromedp.Focus(css("#day-submit")), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css("#rc-book-form")))
	if cls := b.attr(".flash", "class"); strings.Contains(cls, "error") {
		t.Fatalf("publish refused: %s", b.text(".flash"))
	}
	dayPath := eval[string](b, `location.pathname`)
	if !strings.HasPrefix(dayPath, "/reception/") {
		t.Fatalf("after publishing: %s", dayPath)
	}
	b.wantText("已发布", leaderName, place, "08:30–17:30", "今日接访")
	if miss := unlabelled(b, "main"); len(miss) > 0 {
		t.Fatalf("day page fields without a label: %v", miss)
	}

	// The clerk books the petitioner for a new matter.
	b.run(
		chromedp.Focus(css("#book-petitioner_name")), chromedp.KeyEvent(name),
		chromedp.Focus(css("#book-petitioner_phone")), chromedp.KeyEvent(phone),
		chromedp.Focus(css("#book-subject")), chromedp.KeyEvent("拆迁安置房墙体开裂 "+place),
		chromedp.Focus(css("#book-submit")), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(css(`tr[data-status="booked"]`)),
	)
	if cls := b.attr(".flash", "class"); strings.Contains(cls, "error") {
		t.Fatalf("booking refused: %s", b.text(".flash"))
	}
	row := b.attr(`tr[data-status="booked"]`, "id")
	appt := strings.TrimPrefix(row, "appt-")
	b.wantText("约访编号 "+appt, name, phone, "新事项")

	// The visit: the form opens from the keyboard; the registration's fields and the note.
	b.run(chromedp.Focus(css("#"+row+"-receive-toggle")), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css("#a"+appt+"-content")))
	if miss := unlabelled(b, "#"+row+"-receive-form"); len(miss) > 0 {
		t.Fatalf("visit fields without a label: %v", miss)
	}
	b.run(
		chromedp.SetValue(css("select#a"+appt+"-category"), "appeal"),
		chromedp.Focus(css("#a"+appt+"-content")), chromedp.KeyEvent("来访反映安置房墙体开裂、漏水，要求维修 "+place),
		chromedp.Focus(css("#a"+appt+"-outcome")), chromedp.KeyEvent("当场听取诉求，责成区住建局十日内查明答复"),
	)
	b.shot("day")
	b.run(chromedp.Focus(css("#"+row+"-receive-submit")), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css("#rc-receipt")))
	caseNo := strings.TrimSpace(b.text("#rc-receipt-case-no"))
	code := strings.TrimSpace(b.text("#rc-receipt-query-code"))
	if !strings.HasPrefix(caseNo, fmt.Sprint(time.Now().Year())+"-") || len(code) < 6 {
		b.shot("receipt")
		t.Fatalf("receipt: case %q code %q", caseNo, code)
	}
	if got := b.text("#rc-receipt-leader"); got != leaderName {
		t.Fatalf("receipt leader %q, want %s", got, leaderName)
	}
	b.wantText("领导接访登记回执", "拆迁安置房墙体开裂")
	b.shot("receipt")

	// The case file: a visit, the day's leader in charge.
	b.run(chromedp.Click(css("#rc-receipt-case-no")), chromedp.WaitVisible(css("#timeline")))
	b.wantText(caseNo, "包案领导", leaderName, "来访")
	if facts := b.text("#facts"); !strings.Contains(facts, "包案领导") || !strings.Contains(facts, leaderName) {
		b.shot("case-file")
		t.Fatalf("the case file does not show %s as leader in charge: %s", leaderName, facts)
	}
	b.shot("case-file")
	if st := getCase(t, caseNo).State; st == nil || st.Leader != dayLeader || st.Channel != "visit" {
		t.Fatalf("case state: %+v", st)
	}

	// The day's page shows the visit received with its case; the schedule shows the day.
	b.open(dayPath)
	b.run(chromedp.WaitVisible(css("#" + row + `[data-status="received"]`)))
	if got := b.text("#" + row + "-case"); got != caseNo {
		t.Fatalf("the appointment's case %q, want %s", got, caseNo)
	}
	b.shot("day-received")
	b.open("/reception")
	b.wantText(place, leaderName, "今日接访")
	b.shot("schedule")

	// The leader's reception record: the case, no personal data, the files.
	b.open("/reception/record?leader=" + dayLeader + "&from=" + today + "&to=" + today)
	b.run(chromedp.WaitVisible(css("#rc-totals")))
	b.wantText(leaderName+"的接访记录", caseNo, "登记为新事项", "申诉求决")
	if body := b.text("main"); strings.Contains(body, name) || strings.Contains(body, phone) {
		t.Fatal("the reception record shows the petitioner")
	}
	if href := b.attr("#rc-record-csv", "href"); !strings.Contains(href, "/reception/record/export/csv?") || !strings.Contains(href, "leader="+dayLeader) {
		t.Fatalf("csv link %q", href)
	}
	if miss := unlabelled(b, "main"); len(miss) > 0 {
		t.Fatalf("record fields without a label: %v", miss)
	}
	b.shot("record")
}

// fieldsWithoutLabel lists the inputs, selects and text areas within scope (a CSS selector)
// that no label names.
func fieldsWithoutLabel(b *browser, scope string) []string {
	b.t.Helper()
	return eval[[]string](b, `Array.from(document.querySelectorAll('`+scope+` input:not([type=hidden]), `+scope+` select, `+scope+` textarea'))
		.filter(e => !e.labels || e.labels.length === 0).map(e => e.name || e.id)`)
}

// tabTo presses Tab from the focused element until the element with the id has the focus.
func (b *browser) tabTo(id string) {
	b.t.Helper()
	for range 80 {
		b.run(chromedp.KeyEvent(kb.Tab))
		if eval[string](b, `document.activeElement ? document.activeElement.id : ""`) == id {
			return
		}
	}
	b.shot("tab-order")
	b.t.Fatalf("Tab never reached #%s", id)
}

// A month's dispute screening (矛盾纠纷排查) in the console: a round of this test's own month
// opens (as TestScreeningRoundThroughHTTP opens one); the construction bureau's handler files
// a form with one dispute line on /screening, from the keyboard, and the page shows the unit as
// filed; a clerk opens the line's 转为信访事项 form, gives the petitioner (name and phone) and
// gets registration's receipt with the case number and query code; the case file opens, and
// the screening page links the line to its case. Every field of the page has a label.
func TestConsoleScreening(t *testing.T) {
	ctx := context.Background()
	// A month no schedule opens during the test and no other test uses (2030-01 is
	// TestScreeningRoundThroughHTTP's): the round is this test's own, whatever runs before.
	const month = "2030-02"
	pol := workflows.ScreeningPolicy{Name: "e2e-console", DueAfter: workflows.Duration(10 * time.Minute),
		Ladder: workflows.Ladder{ReminderBefore: workflows.Duration(time.Minute),
			LeaderAfter: workflows.Duration(5 * time.Minute), SuperiorAfter: workflows.Duration(10 * time.Minute)},
		CloseAfter: workflows.Duration(30 * time.Minute)}
	_, err := stack.Service.Temporal().ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ScreeningRoundID(month), TaskQueue: workflows.TaskQueue},
		workflows.ScreeningWorkflow, workflows.ScreeningInput{Month: month, Policy: pol, Units: []string{"construction", "health"}})
	if err != nil {
		t.Fatal(err)
	}
	apiPath := "/api/v1/screening/rounds/" + month
	eventually(t, 20*time.Second, "the round in the register", func() bool {
		var v screeningRoundView
		return callRaw(t, "GET", apiPath, nil, &v, bearer(t, supervisor)...) == http.StatusOK && v.Round.Units == 2
	})
	page := "/screening?month=" + month
	summary := fmt.Sprintf("城西老旧小区加装电梯分歧，低层住户反对 %d", time.Now().UnixNano()%1e6)

	// The construction bureau's handler files the form with one dispute line, keyboard only.
	h := newBrowser(t)
	h.signIn(handler)
	h.open(page)
	h.run(chromedp.WaitVisible(css("#sc-form")))
	if st := h.attr("#sc-unit-construction", "data-status"); st != "pending" {
		t.Fatalf("construction's report is %q before filing", st)
	}
	if miss := fieldsWithoutLabel(h, "main"); len(miss) > 0 {
		t.Fatalf("screening fields without a label: %v", miss)
	}
	h.run(
		chromedp.Focus(css("#sc-kind-0")), // 矛盾纠纷, the first kind
		chromedp.Focus(css("#sc-summary-0")), chromedp.KeyEvent(summary),
		chromedp.Focus(css("#sc-leader-0")), chromedp.KeyEvent("陈志强"),
		chromedp.Focus(css("#sc-plan-0")), chromedp.KeyEvent("召开业主协调会，一个月内形成加装方案"),
		chromedp.SetValue(css("#sc-time_limit-0"), "2030-03-15"),
		chromedp.Focus(css("#sc-note")), chromedp.KeyEvent("本月排查一件"),
	)
	if kind := eval[string](h, `document.querySelector('#sc-kind-0').value`); kind != workflows.DisputeKindDispute {
		t.Fatalf("the line's kind %q, want %s", kind, workflows.DisputeKindDispute)
	}
	h.run(chromedp.Focus(css("#sc-mode-lines")))
	h.tabTo("sc-submit")
	h.shot("form")
	h.run(chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(".flash")))
	if cls := h.attr(".flash", "class"); strings.Contains(cls, "error") {
		h.shot("refused")
		t.Fatalf("the form was refused: %s", h.text(".flash"))
	}
	h.wantText("排查表已报送")
	deadline := time.Now().Add(20 * time.Second)
	for h.attr("#sc-unit-construction", "data-status") != "filed" {
		if time.Now().After(deadline) {
			h.shot("not-filed")
			t.Fatalf("construction never shown as filed: %s", h.text("#sc-unit-construction"))
		}
		time.Sleep(500 * time.Millisecond)
		h.open(page)
	}
	if row := h.text("#sc-unit-construction"); !strings.Contains(row, "已报送") {
		t.Fatalf("construction's row: %q", row)
	}
	h.wantText(summary)
	h.shot("filed")

	// A clerk turns the line into a case.
	c := newBrowser(t)
	c.signIn(clerk)
	c.open(page)
	c.run(chromedp.WaitVisible(css("#sc-disputes")))
	row := eval[string](c, fmt.Sprintf(`(() => { const r = Array.from(document.querySelectorAll('#sc-disputes tr[id^="sc-dispute-"]')).find(r => r.textContent.includes(%q)); return r ? r.id : ''; })()`, summary))
	id := strings.TrimPrefix(row, "sc-dispute-")
	if row == "" || id == "" {
		c.shot("disputes")
		t.Fatalf("the clerk's page does not list the line %q", summary)
	}
	if miss := fieldsWithoutLabel(c, "main"); len(miss) > 0 {
		t.Fatalf("screening fields without a label (clerk): %v", miss)
	}
	pet := petitioner()
	name, phone := "赵某排查转办", pet["phone"].(string)
	// The petitioner's name and phone must never reach Temporal or the logs (zz_sealed_test).
	collectSecrets("POST", "", map[string]any{"petitioners": []any{map[string]any{"name": name, "phone": phone}}})
	prefix := "#d" + id + "-petitioners-0-"
	c.run(
		chromedp.Focus(css("#sc-case-"+id+"-toggle")), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(css(prefix+"name")),
		chromedp.Focus(css(prefix+"name")), chromedp.KeyEvent(name),
		chromedp.Focus(css(prefix+"phone")), chromedp.KeyEvent(phone),
	)
	c.shot("case-form")
	c.run(chromedp.Focus(css("#sc-case-"+id+"-submit")), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css("#receipt")))
	caseNo := strings.TrimSpace(c.text("#receipt-case-no"))
	code := strings.TrimSpace(c.text("#receipt-query-code"))
	if !strings.HasPrefix(caseNo, fmt.Sprint(time.Now().Year())+"-") || len(code) < 6 {
		c.shot("receipt")
		t.Fatalf("receipt: case %q code %q", caseNo, code)
	}
	c.wantText("信访事项登记回执")
	c.shot("receipt")

	// The case file of that number.
	c.run(chromedp.Click(css(`.receipt-actions a[href="/cases/`+caseNo+`"]`)), chromedp.WaitVisible(css("#timeline")))
	c.wantText(caseNo)
	c.shot("case-file")

	// The screening page links the line to its case, with no form left to make it one.
	c.waitText(page, caseNo, 20*time.Second)
	if got := strings.TrimSpace(c.text("#sc-dispute-" + id + "-case")); got != caseNo {
		t.Fatalf("the line's case %q, want %s", got, caseNo)
	}
	if n := eval[int](c, `document.querySelectorAll('#sc-case-`+id+`-form').length`); n != 0 {
		t.Fatal("the line made a case still offers its form")
	}
	c.shot("linked")
}
