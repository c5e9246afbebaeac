package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

// The monthly dispute screening round (矛盾纠纷排查) is opened by a Temporal Schedule,
// workflows.ScreeningScheduleID. Every worker process makes sure at start that it exists with
// the configured spec and policy (PETITIONS_SCREENING_SCHEDULE, PETITIONS_SCREENING_POLICY):
// creating it, or updating it when another process created it first or the settings changed.
// Each firing starts ScreeningOpen, which opens the month's round once (screening-<YYYY-MM>),
// so a firing repeated within the month changes nothing.

// screeningOpenID starts the workflow ID of each firing (the server appends the time).
const screeningOpenID = "screening-open"

// ScreeningScheduleSpec reads the setting: "off" (nil spec), "every <duration>", or a cron spec
// of five fields in Asia/Shanghai. trigger: the schedule fires once when created (intervals).
func ScreeningScheduleSpec(setting string) (spec *client.ScheduleSpec, trigger bool, err error) {
	v := strings.TrimSpace(setting)
	switch {
	case strings.EqualFold(v, "off"):
		return nil, false, nil
	case strings.HasPrefix(v, "every "):
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(v, "every ")))
		if err != nil || d < time.Second {
			return nil, false, fmt.Errorf("screening schedule %q: want \"every <duration>\" of at least 1s", v)
		}
		return &client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: d}}}, true, nil
	case len(strings.Fields(v)) == 5:
		return &client.ScheduleSpec{CronExpressions: []string{v}, TimeZoneName: calendar.Location().String()}, false, nil
	}
	return nil, false, fmt.Errorf("screening schedule %q: want a cron spec of five fields, \"every <duration>\" or off", v)
}

// EnsureScreeningSchedule creates or updates the screening schedule; "off" pauses an existing
// one (a later start with a spec resumes it).
func EnsureScreeningSchedule(ctx context.Context, c client.Client, setting string, pol workflows.ScreeningPolicy, log *slog.Logger) error {
	spec, trigger, err := ScreeningScheduleSpec(setting)
	if err != nil {
		return err
	}
	if err := workflows.ValidateScreeningPolicy(pol); err != nil {
		return err
	}
	sc := c.ScheduleClient()
	h := sc.GetHandle(ctx, workflows.ScreeningScheduleID)
	_, derr := h.Describe(ctx)
	var nf *serviceerror.NotFound
	exists := derr == nil
	if derr != nil && !errors.As(derr, &nf) {
		return fmt.Errorf("describe the screening schedule: %w", derr)
	}
	if spec == nil {
		if exists {
			log.Info("screening schedule off: pausing it", "schedule", workflows.ScreeningScheduleID)
			return h.Pause(ctx, client.SchedulePauseOptions{Note: "PETITIONS_SCREENING_SCHEDULE=off"})
		}
		return nil
	}
	action := &client.ScheduleWorkflowAction{
		ID:        screeningOpenID,
		Workflow:  workflows.ScreeningOpenWorkflow,
		Args:      []any{workflows.ScreeningOpenInput{Policy: pol}},
		TaskQueue: workflows.TaskQueue,
		// A round that cannot open (register down) is retried by the activity; the opener
		// itself only fails on a bug.
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
		WorkflowRunTimeout:  time.Hour,
		StaticSummary:       "矛盾纠纷排查 open the month's dispute screening round",
		WorkflowTaskTimeout: 10 * time.Second,
	}
	if !exists {
		_, err := sc.Create(ctx, client.ScheduleOptions{
			ID: workflows.ScreeningScheduleID, Spec: *spec, Action: action,
			Overlap:            enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
			CatchupWindow:      24 * time.Hour,
			TriggerImmediately: trigger,
			Note:               "monthly dispute screening (矛盾纠纷排查): " + setting + ", policy " + pol.Name,
		})
		if err == nil {
			log.Info("screening schedule created", "schedule", workflows.ScreeningScheduleID, "spec", setting, "policy", pol.Name)
			return nil
		}
		if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
			return fmt.Errorf("create the screening schedule: %w", err)
		}
		// Another worker process created it a moment ago: bring it to these settings.
	}
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		s.Spec = spec
		s.Action = action
		if s.State != nil && s.State.Paused {
			s.State.Paused = false
			s.State.Note = "resumed: " + setting
		}
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
	if err != nil {
		return fmt.Errorf("update the screening schedule: %w", err)
	}
	log.Info("screening schedule in place", "schedule", workflows.ScreeningScheduleID, "spec", setting, "policy", pol.Name)
	return nil
}
