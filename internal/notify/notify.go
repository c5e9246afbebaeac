// Package notify delivers reminders, supervision notices and escalations to people. In
// development they go to the log; in production to an HTTP webhook (SMS gateway, OA system).
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/petitions/petitions/workflows"
)

// Notifier delivers one notice. Deliveries may be retried: receivers deduplicate by Key.
type Notifier interface {
	Notify(ctx context.Context, n workflows.Notice) error
}

// Log writes notices to a structured log.
type Log struct{ Logger *slog.Logger }

// Notify logs that a notice is due, without its message: a message may quote a supervisor's
// opinion, and logs never carry what staff or petitioners wrote. A webhook gets the message.
func (l Log) Notify(ctx context.Context, n workflows.Notice) error {
	l.Logger.InfoContext(ctx, "notice", "key", n.Key, "case_no", n.CaseNo, "kind", n.Kind,
		"recipient", n.Recipient, "unit", n.Unit)
	return nil
}

// Webhook POSTs each notice as JSON with an Idempotency-Key header equal to the notice key.
type Webhook struct {
	URL    string
	Client *http.Client
}

// PermanentError is a delivery the receiver refused for good (a 4xx other than 408/429):
// retrying will not help.
type PermanentError struct{ Status int }

func (e *PermanentError) Error() string {
	return fmt.Sprintf("notification webhook refused the notice: HTTP %d", e.Status)
}

// Notify posts the notice; any 2xx is success.
func (w Webhook) Notify(ctx context.Context, n workflows.Notice) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", n.Key)
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("notification webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 429:
		return &PermanentError{Status: resp.StatusCode}
	default:
		return fmt.Errorf("notification webhook: HTTP %d", resp.StatusCode)
	}
}
