package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// Enumerations the API accepts. The register and the workflow store them as given; checking
// here turns a typo into a field error instead of a case nobody can find by channel.
var (
	channels   = []string{"letter", "visit", "phone", "online", "hotline", "email"}
	categories = []string{"accusation", "appeal", "suggestion", "inquiry"}
	stages     = []string{
		string(workflows.StageRegistered), string(workflows.StageHandling), string(workflows.StageReplied),
		string(workflows.StageReview), string(workflows.StageReviewed), string(workflows.StageReReview),
		string(workflows.StageClosed), string(workflows.StageTerminated), string(workflows.StageRejected),
		string(workflows.StageWithdrawn),
	}
	evaluations = []string{workflows.EvaluationSatisfied, workflows.EvaluationBasicSatisfied, workflows.EvaluationDissatisfied}
	outcomes    = []string{workflows.OutcomeUphold, workflows.OutcomeRevise}
	// serviceMethods 送达方式.
	serviceMethods = []string{workflows.ServiceInPerson, workflows.ServicePost, workflows.ServiceSMS, workflows.ServiceOnline}
)

func oneOf(allowed []string) string { return "must be one of " + strings.Join(allowed, ", ") }

// decodeJSON reads one JSON object from the body into v. Unknown fields are refused so a
// misspelt field ("handeler") is reported rather than silently dropped. Every failure is a
// client error: malformed JSON → badRequestError, a wrong type → a field error. A body that is
// not UTF-8 (e.g. GBK from a misconfigured client) is refused naming the fields that hold the
// bad bytes: encoding/json would quietly turn them into U+FFFD and the text would be lost.
func decodeJSON(c *gin.Context, v any) error {
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		return &badRequestError{"request body is empty; expected a JSON object"}
	}
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return &badRequestError{"the request body could not be read"}
	}
	if !utf8.Valid(raw) {
		return notUTF8(raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return &badRequestError{"request body must hold exactly one JSON object"}
	}
	return nil
}

// errNotUTF8 is what a string with bytes that are not UTF-8 is told.
const errNotUTF8 = "must be UTF-8 text (the request holds bytes that are not UTF-8: send the body in UTF-8)"

// notUTF8 names the fields of a body whose strings hold invalid UTF-8: each run of bad bytes
// is replaced by a NUL escape, the body decoded as plain JSON, and the strings holding a NUL
// named (a NUL is refused in every field anyway). A body that does not decode even then is
// refused as a whole.
func notUTF8(raw []byte) error {
	var doc any
	if err := json.Unmarshal(bytes.ToValidUTF8(raw, []byte(`\u0000`)), &doc); err != nil {
		return &badRequestError{"request body is not UTF-8 JSON"}
	}
	f := fieldErrors{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case string:
			if strings.ContainsRune(x, 0) {
				f[path] = errNotUTF8
			}
		case map[string]any:
			for k, e := range x {
				name := k
				if path != "" {
					name = path + "." + k
				}
				if strings.ContainsRune(k, 0) {
					f[strings.ReplaceAll(name, "\x00", "\uFFFD")] = "is not a field: " + errNotUTF8
					continue
				}
				walk(name, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("", doc)
	if len(f) == 0 {
		return &badRequestError{"request body is not UTF-8 JSON"}
	}
	return f
}

func jsonError(err error) error {
	var (
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
		tooBig  *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooBig):
		return err
	case errors.Is(err, io.EOF):
		return &badRequestError{"request body is empty; expected a JSON object"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &badRequestError{"malformed JSON: unexpected end of input"}
	case errors.As(err, &syntax):
		return &badRequestError{fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)}
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return &badRequestError{"request body must be a JSON object"}
		}
		return fieldErrors{typeErr.Field: "must be " + jsonKind(typeErr.Type)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this; the message format is stable.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldErrors{name: "unknown field"}
	default:
		return &badRequestError{"malformed JSON"}
	}
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

// idWeights and idCheck are the GB 11643-1999 checksum of the 18-character citizen ID number:
// the weighted sum of the first 17 digits modulo 11 selects the check character.
var (
	idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	idCheck   = "10X98765432"
)

// validIDNumber checks the shape of a mainland resident ID number: 17 digits, a check
// character (digit or X), a real birth date not after today, and the checksum. It cannot know
// whether the number was issued; it catches typos, which is what a clerk needs.
func validIDNumber(id string, today time.Time) string {
	if len(id) != 18 {
		return "must be 18 characters"
	}
	sum := 0
	for i := 0; i < 17; i++ {
		d := id[i]
		if d < '0' || d > '9' {
			return "the first 17 characters must be digits"
		}
		sum += int(d-'0') * idWeights[i]
	}
	if id[0] == '0' {
		return "region code is invalid"
	}
	birth, err := time.ParseInLocation("20060102", id[6:14], shanghai)
	if err != nil || birth.Year() < 1900 || birth.After(today) {
		return "birth date is invalid"
	}
	last := id[17]
	if last == 'x' {
		last = 'X'
	}
	if last != idCheck[sum%11] {
		return "checksum does not match (check the digits)"
	}
	return ""
}

// validPhone accepts mobile, landline and hotline numbers as people write them: digits with
// an optional leading +, spaces, dashes and parentheses; 3 to 20 digits (12345 has five).
func validPhone(p string) bool {
	digits := 0
	for i, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')':
		default:
			return false
		}
	}
	return digits >= 3 && digits <= 20
}

// Years an instant from a client may fall in. Outside them an instant is a typo, and some
// cannot even be written back: encoding/json refuses years after 9999 (and offsets of 24 h or
// more), so a case or a statistics answer holding one would fail to serialise. Before 1901
// Asia/Shanghai is on local mean time (+08:05:43), which RFC 3339 cannot write: "1900-01-01"
// would come back 43 seconds off.
const (
	minYear = 1901
	maxYear = 9999
)

var errYearRange = errors.New("must fall in the years " + strconv.Itoa(minYear) + " to " + strconv.Itoa(maxYear))

// parseRFC3339 reads an RFC 3339 timestamp strictly: time.Parse accepts a UTC offset of
// +24:00 or more and minutes of 60 or more, which RFC 3339 does not (and which time.Time's
// MarshalJSON then refuses). ok is false for anything that is not RFC 3339.
func parseRFC3339(s string) (t time.Time, ok bool) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, false
	}
	if z := s[len(s)-1]; z != 'Z' && z != 'z' {
		// time.Parse succeeded, so the string ends in ±hh:mm.
		off := s[len(s)-5:]
		if off[0:2] > "23" || off[3:5] > "59" {
			return time.Time{}, false
		}
	}
	return t, true
}

// inYearRange reports whether t falls in minYear…maxYear wherever it is shown: in its own
// offset, in UTC and in Asia/Shanghai.
func inYearRange(t time.Time) bool {
	for _, y := range []int{t.Year(), t.UTC().Year(), t.In(shanghai).Year()} {
		if y < minYear || y > maxYear {
			return false
		}
	}
	return true
}

// parseInstant reads RFC 3339 or a civil date YYYY-MM-DD; a date means the start of that day
// in Asia/Shanghai, or the start of the next day when endOfDay (so "to=2026-05-31" includes
// the 31st). The instant must fall in the years minYear…maxYear.
func parseInstant(s string, endOfDay bool) (time.Time, error) {
	t, ok := parseRFC3339(s)
	if !ok {
		d, err := time.ParseInLocation(time.DateOnly, s, shanghai)
		if err != nil {
			return time.Time{}, errors.New("must be RFC 3339 (2026-05-01T09:00:00+08:00) or a date (2026-05-01)")
		}
		if endOfDay {
			d = d.AddDate(0, 0, 1)
		}
		t = d
	}
	if !inYearRange(t) {
		return time.Time{}, errYearRange
	}
	return t, nil
}

// validCaseNo keeps path parameters to the shape of case numbers (register.ValidCaseNo).
var validCaseNo = register.ValidCaseNo

func caseNoParam(c *gin.Context) (string, error) {
	no := c.Param("no")
	if !validCaseNo(no) {
		return "", fieldErrors{"no": "is not a case number"}
	}
	return no, nil
}

func contains(list []string, v string) bool { return slices.Contains(list, v) }
