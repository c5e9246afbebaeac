package workflows

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes as text in policy files: "20s", "72h",
// or whole days "3d".
type Duration time.Duration

// Std returns the standard library duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) String() string {
	if d != 0 && time.Duration(d)%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(time.Duration(d)/(24*time.Hour)), 10) + "d"
	}
	return time.Duration(d).String()
}

// ParseDuration reads "20s", "72h" or "3d".
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return Duration(time.Duration(days) * 24 * time.Hour), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return Duration(v), nil
}

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"20s\" or \"3d\": %w", err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ladderJSON is the Ladder as written in policy files and histories.
type ladderJSON struct {
	ReminderBefore string   `json:"reminder_before"`
	LeaderAfter    Duration `json:"leader_after"`
	SuperiorAfter  Duration `json:"superior_after"`
}

// MarshalJSON writes a working-day reminder offset as "3wd", any other as a Duration.
func (l Ladder) MarshalJSON() ([]byte, error) {
	v := ladderJSON{ReminderBefore: l.ReminderBefore.String(), LeaderAfter: l.LeaderAfter, SuperiorAfter: l.SuperiorAfter}
	if l.ReminderWorkingDays > 0 {
		v.ReminderBefore = strconv.Itoa(l.ReminderWorkingDays) + "wd"
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads reminder_before as "3wd" (working days before the deadline) or a
// Duration ("20s", "72h", "3d"). Unknown fields are refused, as in policy files.
func (l *Ladder) UnmarshalJSON(b []byte) error {
	var v struct {
		ReminderBefore *string  `json:"reminder_before"`
		LeaderAfter    Duration `json:"leader_after"`
		SuperiorAfter  Duration `json:"superior_after"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*l = Ladder{LeaderAfter: v.LeaderAfter, SuperiorAfter: v.SuperiorAfter}
	if v.ReminderBefore == nil {
		return nil
	}
	s := strings.TrimSpace(*v.ReminderBefore)
	if n, ok := strings.CutSuffix(s, "wd"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return fmt.Errorf("reminder_before: invalid working days %q (want e.g. \"3wd\")", s)
		}
		l.ReminderWorkingDays = days
		return nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return fmt.Errorf("reminder_before: %w", err)
	}
	l.ReminderBefore = d
	return nil
}
