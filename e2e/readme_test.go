package e2e

// The README's "A five-minute walkthrough", run as written against the e2e stack.
//
// The convention for the walkthrough section (keep it when editing the README):
//
//   - Every ```sh or ```bash block runs, in order, in one bash process (set -euo pipefail), so
//     variables and functions carry from block to block. The blocks run in an empty
//     temporary folder; "localhost:8080" is replaced by the stack's address.
//   - Every curl in them must succeed: the test runs curl with --fail-with-body, so an answer
//     with an error status (4xx, 5xx) fails the test with that answer shown.
//   - A block fenced ```json output or ```text output right after a shell block (nothing but
//     blank lines between) is what that block prints, and is checked:
//     json output: the block prints as many JSON values as shown, and each shown value is a
//     pattern for the printed one: every key shown must be there with a matching value
//     (keys not shown may be there too); arrays match element by element, and a last element
//     "…" allows more; a string "…" matches any value, "…" inside a string matches any run
//     of characters ("2026-…", "due … (30 seconds)"); a case number such as "2026-000002"
//     matches any case number, since they depend on what the stack registered before, and a
//     string of digits (a query code) any string of as many digits.
//     text output: the printed text, trimmed and without byte-order marks, matches the shown
//     text, where "…" matches any run of characters (also across lines) and a case number
//     matches any case number.
//   - No other kind of fenced block may appear in the section, so nothing shown there goes
//     unchecked. What commands print is shown in output blocks, not in comments.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	readmePath          = "../README.md"
	walkthroughHeading  = "## A five-minute walkthrough"
	readmeAddress       = "localhost:8080"
	walkthroughDeadline = 6 * time.Minute
	ellipsis            = "…"
)

// walkthroughRan: the walkthrough registers fixed petitioners, so on one stack it runs once
// (go test -count=2 reuses the stack).
var walkthroughRan atomic.Bool

// readmeBlock is one fenced block of the walkthrough.
type readmeBlock struct {
	line int    // of the opening fence in README.md
	info string // the fence's info string: "sh", "json output", …
	body string
}

// readmeStep is a shell block and the output shown for it, if any.
type readmeStep struct {
	shell  readmeBlock
	output *readmeBlock
}

func TestREADMEWalkthrough(t *testing.T) {
	if walkthroughRan.Swap(true) {
		t.Skip("the walkthrough registers fixed petitioners: it runs once per stack")
	}
	runWalkthrough(t, walkthroughHeading)
}

// The README's walkthrough of the bureau's routines, by the same convention.
func TestREADMERoutinesWalkthrough(t *testing.T) {
	if routinesWalkthroughRan.Swap(true) {
		t.Skip("the walkthrough registers fixed petitioners: it runs once per stack")
	}
	runWalkthrough(t, routinesHeading)
}

// The README's walkthrough of a leader's reception day.
func TestREADMEReceptionWalkthrough(t *testing.T) {
	if receptionWalkthroughRan.Swap(true) {
		t.Skip("the walkthrough registers fixed petitioners: it runs once per stack")
	}
	runWalkthrough(t, receptionHeading)
}

const receptionHeading = "### A reception day, step by step"

var receptionWalkthroughRan atomic.Bool

// routinesHeading is the README section walking through the routines on a case.
const routinesHeading = "## The bureau's routines on a case (交办, 回访, 联查, 包案)"

var routinesWalkthroughRan atomic.Bool

// runWalkthrough runs the shell blocks of a README section and checks the outputs shown.
func runWalkthrough(t *testing.T, heading string) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("the README walkthrough needs %s, not found on PATH (Debian: apt-get install %s)", tool, tool)
			if os.Getenv("CI") != "" {
				t.Fatal(msg + "; in CI the check must not be skipped: .ci/run installs it") // a skip would hide drift
			}
			t.Skip(msg)
		}
	}
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := walkthroughSteps(string(readme), heading)
	if err != nil {
		t.Fatal(err)
	}
	script := walkthroughScript(t, steps)
	collectWalkthroughSecrets(script)

	ctx, cancel := context.WithTimeout(context.Background(), walkthroughDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("walkthrough ran in %s", time.Since(start).Round(100*time.Millisecond))

	outputs := splitBlockOutputs(stdout.String())
	for i, st := range steps {
		out, ran := outputs[i]
		if !ran {
			break
		}
		if testing.Verbose() {
			t.Logf("README.md:%d\n%s\n--- printed:\n%s", st.shell.line, st.shell.body, truncate([]byte(out), 4000))
		}
		if st.output == nil {
			continue
		}
		if _, finished := outputs[i+1]; !finished && runErr != nil {
			break // the block failed: reported below
		}
		if err := checkShownOutput(*st.output, out); err != nil {
			t.Errorf("README.md:%d: the output shown at README.md:%d has drifted: %v\nprinted:\n%s",
				st.shell.line, st.output.line, err, out)
		}
	}
	if runErr != nil {
		failed, printed := "before the first block", ""
		for i := len(steps) - 1; i >= 0; i-- {
			if out, ran := outputs[i]; ran {
				failed = fmt.Sprintf("in the block at README.md:%d:\n%s", steps[i].shell.line, steps[i].shell.body)
				printed = out
				break
			}
		}
		t.Fatalf("the walkthrough stopped %s\n--- error: %v\n--- stderr:\n%s\n--- the block printed:\n%s",
			failed, runErr, stderr.String(), printed)
	}
	if len(outputs) != len(steps)+1 {
		t.Fatalf("the walkthrough ran %d of %d blocks", len(outputs), len(steps))
	}
}

// walkthroughSteps returns the shell blocks of the walkthrough section with their shown
// outputs, and refuses any other kind of fenced block there.
func walkthroughSteps(readme, heading string) ([]readmeStep, error) {
	blocks, err := sectionBlocks(readme, heading)
	if err != nil {
		return nil, err
	}
	var steps []readmeStep
	for i, b := range blocks {
		lang, marker, _ := strings.Cut(b.info, " ")
		switch {
		case marker == "" && (lang == "sh" || lang == "bash"):
			steps = append(steps, readmeStep{shell: b.readmeBlock})
		case marker == "output" && (lang == "json" || lang == "text"):
			if i == 0 || len(steps) == 0 || steps[len(steps)-1].shell.line != blocks[i-1].line || !b.follows {
				return nil, fmt.Errorf("README.md:%d: an output block must come right after the shell block whose output it shows", b.line)
			}
			if steps[len(steps)-1].output != nil {
				return nil, fmt.Errorf("README.md:%d: one output block per shell block", b.line)
			}
			steps[len(steps)-1].output = &blocks[i].readmeBlock
		default:
			return nil, fmt.Errorf("README.md:%d: a ```%s block in the walkthrough: use ```sh (run), ```json output or ```text output (checked)", b.line, b.info)
		}
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("no ```sh blocks under %q in README.md", heading)
	}
	return steps, nil
}

type sectionBlock struct {
	readmeBlock
	follows bool // only blank lines between the previous block and this one
}

// sectionBlocks returns the fenced blocks between heading and the next heading of the same
// or a higher level.
func sectionBlocks(readme, heading string) ([]sectionBlock, error) {
	lines := strings.Split(readme, "\n")
	level := len(heading) - len(strings.TrimLeft(heading, "#"))
	start := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == heading {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("README.md has no section %q", heading)
	}
	var blocks []sectionBlock
	onlyBlank := false
	for i := start + 1; i < len(lines); i++ {
		l := lines[i]
		if h := len(l) - len(strings.TrimLeft(l, "#")); h > 0 && h <= level && strings.HasPrefix(l[h:], " ") {
			break
		}
		if !strings.HasPrefix(l, "```") {
			if strings.TrimSpace(l) != "" {
				onlyBlank = false
			}
			continue
		}
		b := sectionBlock{readmeBlock: readmeBlock{line: i + 1, info: strings.TrimSpace(strings.TrimPrefix(l, "```"))}, follows: onlyBlank}
		var body []string
		for i++; i < len(lines) && strings.TrimRight(lines[i], " ") != "```"; i++ {
			body = append(body, lines[i])
		}
		if i == len(lines) {
			return nil, fmt.Errorf("README.md:%d: the block is never closed", b.line)
		}
		b.body = strings.Join(body, "\n")
		blocks = append(blocks, b)
		onlyBlank = true
	}
	return blocks, nil
}

// blockMark starts each block's output on stdout: the marker byte, the block's index, a
// newline. The byte (RS) occurs in no answer of the API.
const blockMark = "\x1e"

// walkthroughScript joins the shell blocks into one script pointed at the stack.
func walkthroughScript(t *testing.T, steps []readmeStep) string {
	t.Helper()
	host := strings.TrimPrefix(baseURL, "http://")
	var b strings.Builder
	b.WriteString(`set -Eeuo pipefail
shopt -s inherit_errexit
# An answer with an error status fails the walkthrough, with the answer shown.
curl() { command curl --fail-with-body --show-error --max-time 60 "$@"; }
trap 'echo "walkthrough: \"$BASH_COMMAND\" failed" >&2' ERR
`)
	mentions := false
	for i, st := range steps {
		code := st.shell.body
		mentions = mentions || strings.Contains(code, readmeAddress)
		code = strings.ReplaceAll(code, "http://"+readmeAddress, baseURL)
		code = strings.ReplaceAll(code, readmeAddress, host)
		fmt.Fprintf(&b, "printf '%s%d\\n'\n# README.md:%d\n%s\n", blockMark, i, st.shell.line, code)
	}
	fmt.Fprintf(&b, "printf '%s%d\\n'\n", blockMark, len(steps))
	if !mentions {
		t.Fatalf("the walkthrough never names %s: the test cannot point it at the stack", readmeAddress)
	}
	return b.String()
}

// splitBlockOutputs maps each block's index to what it printed; the index one past the last
// block is there when the whole script ran.
func splitBlockOutputs(stdout string) map[int]string {
	out := map[int]string{}
	parts := strings.Split(stdout, blockMark)
	for _, p := range parts[1:] {
		head, rest, _ := strings.Cut(p, "\n")
		var i int
		if _, err := fmt.Sscanf(head, "%d", &i); err == nil {
			out[i] = rest
		}
	}
	return out
}

// collectWalkthroughSecrets hands the JSON bodies the walkthrough sends ('{…}' literals) to
// the check that no petitioner's data reaches Temporal's database or the logs in plain text.
func collectWalkthroughSecrets(script string) {
	for _, m := range regexp.MustCompile(`'(\{[^']*\})'`).FindAllStringSubmatch(script, -1) {
		var body map[string]any
		if json.Unmarshal([]byte(m[1]), &body) == nil {
			collectSecrets("POST", "", body)
		}
	}
}

// checkShownOutput compares what a block printed with the output the README shows for it.
func checkShownOutput(shown readmeBlock, printed string) error {
	if strings.HasPrefix(shown.info, "text") {
		printed = strings.ReplaceAll(printed, byteOrderMark, "")
		if !textPattern(strings.TrimSpace(shown.body)).MatchString(strings.TrimSpace(printed)) {
			return errors.New("the text differs")
		}
		return nil
	}
	want, err := jsonValues(shown.body)
	if err != nil {
		return fmt.Errorf("the README's output block is not JSON: %v", err)
	}
	got, err := jsonValues(printed)
	if err != nil {
		return fmt.Errorf("the block did not print JSON: %v", err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("%d JSON values printed, %d shown", len(got), len(want))
	}
	for i := range want {
		if err := matchJSON(want[i], got[i], fmt.Sprintf("value %d", i+1)); err != nil {
			return err
		}
	}
	return nil
}

func jsonValues(s string) ([]any, error) {
	d := json.NewDecoder(strings.NewReader(s))
	var vs []any
	for {
		var v any
		err := d.Decode(&v)
		if errors.Is(err, io.EOF) {
			return vs, nil
		}
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
}

var (
	caseNoShape = regexp.MustCompile(`\d{4}-\d{6}`)
	digitsShape = regexp.MustCompile(`\A[0-9]+\z`)
)

// byteOrderMark starts the monthly ledger (for Excel); it is invisible in the README.
const byteOrderMark = "\ufeff"

// textPattern turns shown text into a regular expression: "…" matches any run of characters,
// a case number any case number, everything else itself.
func textPattern(shown string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for i, part := range strings.Split(shown, ellipsis) {
		if i > 0 {
			b.WriteString(`.*?`)
		}
		last := 0
		for _, loc := range caseNoShape.FindAllStringIndex(part, -1) {
			b.WriteString(regexp.QuoteMeta(part[last:loc[0]]))
			b.WriteString(`\d{4}-\d{6}`)
			last = loc[1]
		}
		b.WriteString(regexp.QuoteMeta(part[last:]))
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

// matchJSON reports where got does not match the shown pattern want.
func matchJSON(want, got any, path string) error {
	switch w := want.(type) {
	case string:
		if w == ellipsis {
			return nil
		}
		g, ok := got.(string)
		if ok && digitsShape.MatchString(w) && digitsShape.MatchString(g) && len(g) == len(w) {
			return nil // a query code
		}
		if !ok && strings.Contains(w, ellipsis) && got != nil {
			b, _ := json.Marshal(got)
			g, ok = string(b), true
		}
		if !ok || !textPattern(w).MatchString(g) {
			return fmt.Errorf("%s: printed %s, shown %q", path, compactJSON(got), w)
		}
		return nil
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: printed %s, shown an object", path, compactJSON(got))
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s: no key %q", path, k)
			}
			if err := matchJSON(wv, gv, path+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Errorf("%s: printed %s, shown an array", path, compactJSON(got))
		}
		more := len(w) > 0 && w[len(w)-1] == ellipsis
		if more {
			w = w[:len(w)-1]
		}
		if len(g) < len(w) || (!more && len(g) != len(w)) {
			return fmt.Errorf("%s: printed %d elements, shown %d%s", path, len(g), len(w), map[bool]string{true: " and more"}[more])
		}
		for i := range w {
			if err := matchJSON(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	default:
		if !reflect.DeepEqual(want, got) {
			return fmt.Errorf("%s: printed %s, shown %s", path, compactJSON(got), compactJSON(want))
		}
		return nil
	}
}

func compactJSON(v any) string {
	b, _ := json.Marshal(v)
	return truncate(b, 200)
}

// The comparison of shown and printed output, without the stack.
func TestREADMEOutputConvention(t *testing.T) {
	jsonOut := func(shown, printed string) error {
		return checkShownOutput(readmeBlock{info: "json output", body: shown}, printed)
	}
	textOut := func(shown, printed string) error {
		return checkShownOutput(readmeBlock{info: "text output", body: shown}, printed)
	}
	for _, c := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"extra keys printed", jsonOut(`{"a": 1}`, `{"a":1,"b":2}`), true},
		{"key missing", jsonOut(`{"a": 1, "c": 3}`, `{"a":1}`), false},
		{"value differs", jsonOut(`{"a": 1}`, `{"a":2}`), false},
		{"placeholder value", jsonOut(`{"a": "…"}`, `{"a":{"x":[1]}}`), true},
		{"placeholder in a string", jsonOut(`{"due": "due … (30 seconds)"}`, `{"due":"due 2026-11-26 15:02:56 (30 seconds)"}`), true},
		{"placeholder in a string differs", jsonOut(`{"due": "due … (30 seconds)"}`, `{"due":"due 2026-11-26 15:02:56 (15 days)"}`), false},
		{"case number", jsonOut(`{"case_no": "2026-000001"}`, `{"case_no":"2027-000123"}`), true},
		{"not a case number", jsonOut(`{"case_no": "2026-000001"}`, `{"case_no":"null"}`), false},
		{"query code", jsonOut(`{"query_code": "61849818"}`, `{"query_code":"00597014"}`), true},
		{"query code length", jsonOut(`{"query_code": "61849818"}`, `{"query_code":"0059701"}`), false},
		{"array", jsonOut(`[1, 2]`, `[1,2]`), true},
		{"array longer", jsonOut(`[1, 2]`, `[1,2,3]`), false},
		{"array and more", jsonOut(`[1, "…"]`, `[1,2,3]`), true},
		{"null", jsonOut(`{"level": null}`, `{"level":1}`), false},
		{"several values", jsonOut(`{"a": 1} {"a": 2}`, "{\"a\":1}\n{\"a\":2}\n"), true},
		{"fewer values", jsonOut(`{"a": 1} {"a": 2}`, `{"a":1}`), false},
		{"not JSON", jsonOut(`{"status": "ok"}`, `curl: (7) Failed to connect`), false},
		{"text", textOut("handling\nreplied", "handling\nreplied\n"), true},
		{"text differs", textOut("handling\nreplied", "handling\nreview\n"), false},
		{"text placeholder across lines", textOut("a\n…\nd", "a\nb\nc\nd"), true},
		{"text case number", textOut("1 of 2026-000002", "1 of 2026-000017"), true},
		{"text byte-order mark", textOut("月份 month,unit", "\ufeff月份 month,unit\n"), true},
	} {
		if (c.err == nil) != c.ok {
			t.Errorf("%s: got %v, want ok=%v", c.name, c.err, c.ok)
		}
	}

	for _, c := range []struct{ name, readme string }{
		{"output block without a shell block", "## A five-minute walkthrough\n\n```json output\n{}\n```\n"},
		{"prose between", "## A five-minute walkthrough\n\n```sh\ntrue\n```\n\nwords\n\n```text output\n\n```\n"},
		{"unchecked block", "## A five-minute walkthrough\n\n```sh\ntrue\n```\n\n```json\n{}\n```\n"},
		{"no shell block", "## A five-minute walkthrough\n\nwords\n\n## Next\n\n```sh\ntrue\n```\n"},
	} {
		if _, err := walkthroughSteps(c.readme, walkthroughHeading); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	steps, err := walkthroughSteps("# T\n\n## A five-minute walkthrough\n\n```sh\necho 1\n```\n\n```text output\n1\n```\n\n```bash\necho 2\n```\n\n## Next\n\n```python\n```\n", walkthroughHeading)
	if err != nil || len(steps) != 2 || steps[0].output == nil || steps[0].output.body != "1" || steps[1].output != nil || steps[1].shell.line != 13 {
		t.Errorf("steps %+v, %v", steps, err)
	}
}
