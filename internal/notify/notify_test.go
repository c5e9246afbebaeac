package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/petitions/petitions/internal/notify"
	"github.com/petitions/petitions/workflows"
)

func TestWebhookSendsKeyAndClassifiesFailures(t *testing.T) {
	var got workflows.Notice
	var key string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key = r.Header.Get("Idempotency-Key")
		_ = json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	w := notify.Webhook{URL: srv.URL}
	n := workflows.Notice{Key: "2026-000001/7", CaseNo: "2026-000001", Kind: "reminder", Message: "due soon"}
	if err := w.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if key != n.Key || got != n {
		t.Fatalf("receiver got key %q notice %+v", key, got)
	}
	status = http.StatusBadRequest
	var perm *notify.PermanentError
	if err := w.Notify(context.Background(), n); !errors.As(err, &perm) {
		t.Fatalf("400: want PermanentError, got %v", err)
	}
	status = http.StatusServiceUnavailable
	if err := w.Notify(context.Background(), n); err == nil || errors.As(err, &perm) {
		t.Fatalf("503: want a retryable error, got %v", err)
	}
}
