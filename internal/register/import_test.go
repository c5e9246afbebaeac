package register_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

func importCase(topic, phone string) register.NewCase {
	return register.NewCase{
		Channel: "letter", Category: "appeal", Topic: topic, Content: "补录的在办事项",
		GroupSize: 1, Policy: "default", SuggestedUnit: "construction", RegisteredBy: "clerk.li",
		ReceivedAt: day(9, 1), RegisteredAt: day(11, 26),
		Petitioners: []register.Petitioner{{Name: "周某", Phone: phone}},
	}
}

// An external reference is the import's idempotency key: the same reference answers the case
// it made (also when two imports race), a different petition under it is a conflict, and
// the row waits at ImportedSeq, out of the reconciler's sight, until its workflow reports.
func TestImportIsIdempotentByExternalReference(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	nc := importCase("旧系统在办事项", "13700000001")

	var wg sync.WaitGroup
	got := make([]register.Case, 4)
	made := make([]bool, 4)
	errs := make([]error, 4)
	for i := range got {
		wg.Go(func() { got[i], made[i], errs[i] = s.Import(ctx, nc, "OLD-2026-0001") })
	}
	wg.Wait()
	created := 0
	for i := range got {
		if errs[i] != nil {
			t.Fatalf("import %d: %v", i, errs[i])
		}
		if got[i].CaseNo != got[0].CaseNo {
			t.Errorf("import %d made case %s, another made %s: one reference, one case", i, got[i].CaseNo, got[0].CaseNo)
		}
		if made[i] {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d imports created the case, want exactly 1", created)
	}
	c := got[0]
	if c.Seq != register.ImportedSeq || c.QueryCode == "" || !c.ReceivedAt.Equal(nc.ReceivedAt) || c.RegisteredBy != "clerk.li" {
		t.Errorf("imported row %+v", c)
	}
	if byRef, err := s.CaseByExternalRef(ctx, " OLD-2026-0001 "); err != nil || byRef.CaseNo != c.CaseNo {
		t.Errorf("CaseByExternalRef = %s, %v; want %s", byRef.CaseNo, err, c.CaseNo)
	}
	if _, err := s.CaseByExternalRef(ctx, "OLD-unknown"); !errors.Is(err, register.ErrNotFound) {
		t.Errorf("unknown reference: %v, want ErrNotFound", err)
	}

	// The reconciler would start it as a fresh registration: it must not see it.
	waiting, err := s.CasesWithoutWorkflow(ctx, -time.Hour, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range waiting {
		if w.CaseNo == c.CaseNo {
			t.Errorf("the reconciler lists imported case %s", c.CaseNo)
		}
	}
	// The workflow's first transition takes the row over.
	st := stateOf(c)
	st.Stage = workflows.StageHandling
	apply(t, s, 1, workflows.EventRegistered, st)
	if row, err := s.Get(ctx, c.CaseNo); err != nil || row.Seq != 1 || row.Stage != "handling" {
		t.Errorf("after the first transition: %+v, %v", row, err)
	}

	// The same reference with another petition is refused, not made a second case.
	other := nc
	other.Content = "另一件事"
	if _, _, err := s.Import(ctx, other, "OLD-2026-0001"); !errors.Is(err, register.ErrConflict) {
		t.Errorf("same reference, other content: %v, want ErrConflict", err)
	}
	// Another reference of the same petitioner and matter is a repeat, as in registration.
	var repeat *register.RepeatError
	if _, _, err := s.Import(ctx, nc, "OLD-2026-0002"); !errors.As(err, &repeat) || repeat.Case.CaseNo != c.CaseNo {
		t.Errorf("same petitioner and topic under another reference: %v, want a repeat of %s", err, c.CaseNo)
	}
	if _, _, err := s.Import(ctx, nc, "  "); !errors.Is(err, register.ErrInvalidInput) {
		t.Errorf("blank reference: %v, want ErrInvalidInput", err)
	}
	// A registration's idempotency key and an import's reference live apart.
	reg := importCase("另一事项", "13700000002")
	reg.IdempotencyKey = "OLD-2026-0003"
	mustRegister(t, s, reg)
	if c3, created, err := s.Import(ctx, importCase("第三件", "13700000003"), "OLD-2026-0003"); err != nil || !created || c3.CaseNo == "" {
		t.Errorf("import under a reference equal to a registration's key: %v, created %v", err, created)
	}
}
