package register_test

import (
	"context"
	"testing"

	"github.com/petitions/petitions/internal/register"
)

func TestRepeatSubmissions(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := mustRegister(t, s, register.NewCase{Topic: "flooded cellar", RegisteredAt: day(5, 1),
		Petitioners: []register.Petitioner{{Name: "李", Phone: "13900000009"}}})
	again := register.NewCase{IdempotencyKey: "rep-1", Channel: "phone", Content: "又淹了 flooded again",
		RegisteredAt: day(5, 3), RegisteredBy: "clerk.li",
		Petitioners: []register.Petitioner{{Name: "李", Phone: "139-0000-0009"}, {Name: "王", Phone: "13900000010"}}}
	for range 2 { // a retry with the same key is stored once
		if err := s.AddRepeatSubmission(ctx, c.CaseNo, again); err != nil {
			t.Fatal(err)
		}
	}
	subs, err := s.RepeatSubmissions(ctx, c.CaseNo)
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 1 || subs[0].Content != again.Content || len(subs[0].Petitioners) != 2 ||
		subs[0].Petitioners[0].Phone != "13900000009" || !subs[0].ReceivedAt.Equal(day(5, 3)) {
		t.Fatalf("repeat submissions: %+v", subs)
	}
	if subs, err := s.RepeatSubmissions(ctx, "2026-999999"); err != nil || len(subs) != 0 {
		t.Fatalf("unknown case: %v %v", subs, err)
	}
}
