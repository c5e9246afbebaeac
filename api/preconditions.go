package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/petitions/petitions/workflows"
)

// Actions are applied once (RFC 9110 conditional requests, RFC 6585 428):
//
//   - Every answer that shows a case carries ETag: "<seq>", the case's transition sequence as
//     that answer shows it (it rises by one with every recorded event).
//   - An action carries If-Match: "<seq>" (it is refused with 412 Precondition Failed when the
//     case has changed since: someone else acted, or a timer fired), or an Idempotency-Key,
//     or both. One with neither is refused with 428 Precondition Required: without either a
//     retry after a timeout cannot be told from a second action.
//   - The Workflow Update ID comes from the Idempotency-Key, or else from (action, seq, acting
//     person, the action's fields): the same request repeated with the same If-Match after a
//     504 gets the first attempt's outcome (Temporal deduplicates update IDs) instead of being
//     applied twice, while a different action on the same seq is refused as stale.

const (
	headerIfMatch = "If-Match"
	headerETag    = "ETag"
)

// etag is the entity tag of a case at seq.
func etag(seq int64) string { return `"` + strconv.FormatInt(seq, 10) + `"` }

// setETag marks an answer showing the case at seq.
func setETag(c *gin.Context, seq int64) { c.Header(headerETag, etag(seq)) }

// ifMatchSeq reads If-Match. ok is false without the header; a header that is not exactly one
// strong entity tag of a seq is a field error (a weak tag, "*" or a list cannot make an action
// conditional on one state of the case).
func ifMatchSeq(c *gin.Context) (seq int64, ok bool, err error) {
	vals := c.Request.Header.Values(headerIfMatch)
	if len(vals) == 0 {
		return 0, false, nil
	}
	bad := fieldErrors{headerIfMatch: `must be one ETag of the case as GET /api/v1/petitions/{no} answers it, e.g. "7"`}
	if len(vals) != 1 {
		return 0, false, bad
	}
	digits, quoted := strings.CutPrefix(strings.TrimSpace(vals[0]), `"`)
	digits, closed := strings.CutSuffix(digits, `"`)
	// Entity tags compare character by character: "007" is not the ETag "7" we send.
	if !quoted || !closed || digits == "" || len(digits) > 18 || strings.TrimLeft(digits, "0123456789") != "" ||
		len(digits) > 1 && digits[0] == '0' {
		return 0, false, bad
	}
	n, perr := strconv.ParseInt(digits, 10, 64)
	if perr != nil {
		return 0, false, bad
	}
	return n, true, nil
}

// mergeFieldErrors joins validation failures into one answer naming every field; any other
// error wins as it is.
func mergeFieldErrors(errs ...error) error {
	all := fieldErrors{}
	for _, err := range errs {
		if err == nil {
			continue
		}
		f, ok := err.(fieldErrors)
		if !ok {
			return err
		}
		for k, v := range f {
			all[k] = v
		}
	}
	if len(all) == 0 {
		return nil
	}
	return all
}

// errKeyRequired is the 428 of a POST that creates something and needs an Idempotency-Key:
// what needs it, what one key stands for, and what the key guarantees on a retry.
func errKeyRequired(what, per, retry string) error {
	return &preconditionRequiredError{msg: what + " needs an Idempotency-Key header (a new random value per " + per +
		", repeated unchanged on retries), so " + retry}
}

// errPreconditionRequired tells the client what to send.
func errPreconditionRequired(read string) error {
	return &preconditionRequiredError{msg: "an action needs an If-Match header with the case's ETag (from " + read +
		`, e.g. If-Match: "7"; answered 412 if the case changed meanwhile) or an Idempotency-Key header ` +
		"(a new random value per intended action, repeated unchanged on retries), or both; " +
		"either makes a retry after a timeout safe: the action is applied once"}
}

// actionUpdateID is the Workflow Update ID of an action (prefix names it: the URL action, or
// "petitioner-" and it). With a key it is the key's; with only If-Match it is derived from the
// seq, the acting person and the action's fields, so the same request repeated gets the first
// outcome. in.IfSeq must be set when key is empty.
func actionUpdateID(prefix, key, actor string, in workflows.ActionInput) string {
	if key != "" || in.IfSeq == nil {
		return updateID(prefix, key)
	}
	fields := in
	fields.Actor, fields.IfSeq = workflows.Actor{}, nil
	b, _ := json.Marshal(fields) // a struct of strings, numbers and instants: never fails
	sum := sha256.Sum256(append([]byte(actor+"\x00"), b...))
	return prefix + "-if-" + strconv.FormatInt(*in.IfSeq, 10) + "-" + hex.EncodeToString(sum[:12])
}
