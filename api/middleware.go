package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
)

const (
	headerRequestID = "X-Request-ID"
	ctxRequestID    = "request_id"
)

// requestID takes the caller's X-Request-ID when it looks sane (so a trace can cross the
// reverse proxy) and otherwise makes one; it is echoed back and put on every log line.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(headerRequestID)
		if !saneToken(id, 128) {
			id = randomID()
		}
		c.Set(ctxRequestID, id)
		c.Header(headerRequestID, id)
		c.Next()
	}
}

func (s *Server) logRequests() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		// The path is logged without the query string: searches (q=) may carry names.
		s.log.Log(c.Request.Context(), level, "http request",
			"method", c.Request.Method,
			"path", c.Request.URL.Path,
			"route", c.FullPath(),
			"status", status,
			"duration", time.Since(start),
			"request_id", c.GetString(ctxRequestID))
	}
}

// recoverJSON turns a panic into a logged error and a JSON 500, keeping the connection usable.
// http.ErrAbortHandler is re-panicked: it is net/http's way to abort a response on purpose.
func (s *Server) recoverJSON() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.ErrorContext(c.Request.Context(), "panic in handler",
					"panic", r, "stack", string(debug.Stack()),
					"request_id", c.GetString(ctxRequestID))
				if !c.Writer.Written() {
					c.Abort()
					s.answer(c, http.StatusInternalServerError,
						gin.H{"error": "internal error", "request_id": c.GetString(ctxRequestID)})
				} else {
					c.Abort()
				}
			}
		}()
		c.Next()
	}
}

// limitBody bounds request bodies; reading past the limit fails with *http.MaxBytesError,
// which the error mapper answers with 413.
func limitBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		}
		c.Next()
	}
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// saneToken accepts client-chosen identifiers (request IDs, idempotency keys) that are safe
// to log and to embed in Temporal update IDs: printable ASCII without spaces, bounded length.
func saneToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// checkIdempotencyKey notes a field error for an Idempotency-Key that cannot be used.
func checkIdempotencyKey(key string, f fieldErrors) {
	if key != "" && !saneToken(key, 200) {
		f[headerIdempotencyKey] = "must be 1–200 printable ASCII characters without spaces"
	}
}

// updateID is the Workflow Update ID of an action: the same Idempotency-Key gives the same ID,
// so Temporal applies a retried request once; without a key every request is new. The prefix
// (the action) keeps a key reused for another action from answering the first one's result.
func updateID(prefix, key string) string {
	if key == "" {
		return prefix + "-" + randomID()
	}
	return prefix + "-" + key
}
