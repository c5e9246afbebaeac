package devtemporal

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// sleeper waits on a durable timer, then answers.
func sleeper(ctx workflow.Context, d time.Duration) (string, error) {
	if err := workflow.Sleep(ctx, d); err != nil {
		return "", err
	}
	return "woke", nil
}

// TestRestartKeepsStateAndPort stops the server while a workflow's timer runs and starts it
// again: same frontend and UI ports, same database, the timer due during the outage fires, and
// the client and the worker made before the outage carry on without being told.
func TestRestartKeepsStateAndPort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server twice")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	uiPort, err := FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Server{}).Restart(ctx); err == nil {
		t.Fatal("an in-memory server restarted")
	}
	srv, err := Start(ctx, Options{DatabaseFile: filepath.Join(t.TempDir(), "temporal.db"), UIPort: uiPort})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	c, err := client.NewLazyClient(client.Options{HostPort: srv.HostPort(), Logger: nopLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, "restart", worker.Options{})
	w.RegisterWorkflow(sleeper)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sleeper", TaskQueue: "restart"}, sleeper, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	hostPort, ui := srv.HostPort(), srv.UIAddress()
	time.Sleep(500 * time.Millisecond) // the first workflow task has run: the timer is armed
	stopped := time.Now()
	srv.Stop()
	if srv.Running() {
		t.Fatal("Running after Stop")
	}
	t.Logf("stopped in %s", time.Since(stopped).Round(time.Millisecond))
	short, done := context.WithTimeout(ctx, 2*time.Second)
	_, err = c.DescribeWorkflowExecution(short, "sleeper", "")
	done()
	if err == nil {
		t.Fatal("the stopped server answered")
	}
	time.Sleep(4 * time.Second) // past the timer
	began := time.Now()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(ctx); err != nil {
		t.Fatalf("restarting a running server: %v", err)
	}
	t.Logf("restarted in %s", time.Since(began).Round(time.Millisecond))
	if srv.HostPort() != hostPort || srv.UIAddress() != ui || !srv.Running() {
		t.Fatalf("after restart: %s %s, want %s %s", srv.HostPort(), srv.UIAddress(), hostPort, ui)
	}
	var out string
	wctx, wdone := context.WithTimeout(ctx, 60*time.Second)
	defer wdone()
	if err := run.Get(wctx, &out); err != nil || out != "woke" {
		t.Fatalf("workflow after restart: %q, %v", out, err)
	}
	desc, err := c.DescribeWorkflowExecution(ctx, "sleeper", "")
	if err != nil || desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Fatalf("describe after restart: %v %v", desc.GetWorkflowExecutionInfo().GetStatus(), err)
	}
	resp, err := http.Get(ui + "/api/v1/settings")
	if err != nil {
		t.Fatalf("the UI after restart: %v", err)
	}
	resp.Body.Close()
	t.Logf("the workflow finished %s after the restart", time.Since(began).Round(time.Millisecond))
}
