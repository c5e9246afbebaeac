package register_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/sealing"
)

func TestRegisterAndGet(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	received := day(3, 1)
	c := mustRegister(t, s, register.NewCase{
		Channel: "letter", Category: "appeal", Topic: "拖欠工资", Content: "工地拖欠三个月工资",
		Location: "东街", GroupSize: 1, Policy: "statutory", SuggestedUnit: "construction",
		RegisteredBy: "clerk.li", ReceivedAt: received, RegisteredAt: day(3, 2),
		Petitioners: []register.Petitioner{
			{Name: "张三", IDNumber: " 11010519491231002x ", Phone: "138-0000 1111", Address: "东街1号"},
			{Name: "李四"},
		},
		Attachments: []register.Attachment{{Name: "合同.pdf", ContentType: "application/pdf", Size: 1024, Ref: "blob/1"}},
	})
	if !regexp.MustCompile(`^2026-\d{6}$`).MatchString(c.CaseNo) {
		t.Errorf("case number %q, want 2026-NNNNNN", c.CaseNo)
	}
	if !regexp.MustCompile(`^\d{8}$`).MatchString(c.QueryCode) {
		t.Errorf("query code %q, want 8 digits", c.QueryCode)
	}
	if c.Stage != "registered" || c.Seq != 0 || c.Unit != "" || c.SuggestedUnit != "construction" ||
		c.RegisteredBy != "clerk.li" || !c.ReceivedAt.Equal(received) || c.OnTime != nil || c.DueAt != nil {
		t.Errorf("registered case = %+v", c)
	}
	want := []register.Petitioner{
		{Name: "张三", IDNumber: "11010519491231002X", Phone: "13800001111", Address: "东街1号"},
		{Name: "李四"},
	}
	if !slices.Equal(c.Petitioners, want) {
		t.Errorf("petitioners = %+v, want %+v (normalised, in order)", c.Petitioners, want)
	}
	if len(c.Attachments) != 1 || c.Attachments[0].Ref != "blob/1" || c.Attachments[0].Size != 1024 {
		t.Errorf("attachments = %+v", c.Attachments)
	}

	got, err := s.Get(ctx, c.CaseNo)
	if err != nil {
		t.Fatal(err)
	}
	if got.CaseNo != c.CaseNo || got.Content != "工地拖欠三个月工资" || len(got.Petitioners) != 2 || len(got.Attachments) != 1 {
		t.Errorf("Get = %+v", got)
	}
	if _, err := s.GetByQueryCode(ctx, c.CaseNo, c.QueryCode); err != nil {
		t.Errorf("GetByQueryCode with the right code: %v", err)
	}
	wrong := "00000000"
	if c.QueryCode == wrong {
		wrong = "11111111"
	}
	for _, code := range []string{wrong, ""} {
		if _, err := s.GetByQueryCode(ctx, c.CaseNo, code); !errors.Is(err, register.ErrNotFound) {
			t.Errorf("GetByQueryCode(%q) = %v, want ErrNotFound", code, err)
		}
	}
	if _, err := s.Get(ctx, "2026-999999"); !errors.Is(err, register.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.Events(ctx, "2026-999999"); !errors.Is(err, register.ErrNotFound) {
		t.Errorf("Events(missing) = %v, want ErrNotFound", err)
	}
	if evs, err := s.Events(ctx, c.CaseNo); err != nil || len(evs) != 0 {
		t.Errorf("Events(new case) = %v, %v; want none", evs, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestRegisterIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	nc := register.NewCase{IdempotencyKey: "key-1", Channel: "visit", Category: "appeal",
		Topic: "噪音", Content: "夜间施工噪音", RegisteredAt: day(3, 2),
		Petitioners: []register.Petitioner{{Name: "王五", Phone: "13900000000"}}}
	first, created, err := s.Register(ctx, nc)
	if err != nil || !created {
		t.Fatalf("first Register = %v, %v", created, err)
	}
	again, created, err := s.Register(ctx, nc)
	if err != nil || created || again.CaseNo != first.CaseNo || again.QueryCode != first.QueryCode ||
		len(again.Petitioners) != 1 {
		t.Fatalf("retried Register = %+v, created %v, %v; want the first case", again, created, err)
	}
	changed := nc
	changed.Content = "另一件事"
	if _, _, err := s.Register(ctx, changed); !errors.Is(err, register.ErrConflict) {
		t.Errorf("same key, different content: %v, want ErrConflict", err)
	}

	// Concurrent retries of one submission make one case (another petitioner: the same one on
	// the same matter would be a repeat of the first case).
	nc.IdempotencyKey = "key-2"
	nc.Petitioners = []register.Petitioner{{Name: "赵六", Phone: "13900000001"}}
	var wg sync.WaitGroup
	nos := make([]string, 8)
	errs := make([]error, 8)
	for i := range nos {
		wg.Go(func() {
			c, _, err := s.Register(ctx, nc)
			nos[i], errs[i] = c.CaseNo, err
		})
	}
	wg.Wait()
	for i := range nos {
		if errs[i] != nil || nos[i] != nos[0] {
			t.Fatalf("concurrent Register %d = %q, %v; want %q", i, nos[i], errs[i], nos[0])
		}
	}
	var n int
	if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM cases").Scan(&n); err != nil || n != 2 {
		t.Errorf("cases = %d, %v; want 2", n, err)
	}
}

func TestNumbering(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	// 2025-12-31 17:30 UTC is already 2026-01-01 in Shanghai.
	newYear := time.Date(2025, 12, 31, 17, 30, 0, 0, time.UTC)
	lastOld := time.Date(2025, 12, 31, 15, 30, 0, 0, time.UTC) // 23:30 in Shanghai
	a := mustRegister(t, s, register.NewCase{RegisteredAt: lastOld})
	b := mustRegister(t, s, register.NewCase{RegisteredAt: newYear})
	c := mustRegister(t, s, register.NewCase{RegisteredAt: newYear})
	d := mustRegister(t, s, register.NewCase{RegisteredAt: lastOld})
	for _, tc := range []struct{ got, want string }{
		{a.CaseNo, "2025-000001"}, {b.CaseNo, "2026-000001"}, {c.CaseNo, "2026-000002"}, {d.CaseNo, "2025-000002"},
	} {
		if tc.got != tc.want {
			t.Errorf("case number %s, want %s", tc.got, tc.want)
		}
	}

	// Concurrent registrations: unique and gapless.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var got []string
	for range 20 {
		wg.Go(func() {
			c, _, err := s.Register(ctx, register.NewCase{Channel: "phone", Category: "inquiry",
				Topic: "x", RegisteredAt: newYear})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got = append(got, c.CaseNo)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(got)
	for i, no := range got {
		if want := fmt.Sprintf("2026-%06d", i+3); no != want {
			t.Fatalf("concurrent numbers %v: position %d is %s, want %s", got, i, no, want)
		}
	}
}

func TestFindRepeat(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	zhang := register.Petitioner{Name: "张三", IDNumber: "11010519491231002X", Phone: "13800001111"}
	closed := mustRegister(t, s, register.NewCase{Topic: "Unpaid Wages", RegisteredAt: day(1, 5),
		Petitioners: []register.Petitioner{zhang}})
	st := stateOf(closed)
	st.Stage, st.ClosedAt = "closed", ptr(day(2, 1))
	apply(t, s, 1, "closed", st)

	// Only a final case: found, final.
	got, found, err := s.FindRepeat(ctx, []register.Petitioner{{IDNumber: "11010519491231002x"}}, "appeal", "  unpaid wages ")
	if err != nil || !found || got.CaseNo != closed.CaseNo {
		t.Fatalf("FindRepeat = %s, %v, %v; want %s", got.CaseNo, found, err, closed.CaseNo)
	}

	open := mustRegister(t, s, register.NewCase{Topic: "unpaid wages", RegisteredAt: day(2, 10),
		Petitioners: []register.Petitioner{{Name: "张三", Phone: "13800001111"}}})
	// A newer final case must not beat the open one. (Register itself refuses a second case
	// while one is open, so the newer case gets the topic afterwards.)
	newer := mustRegister(t, s, register.NewCase{Topic: "unpaid wages, later", RegisteredAt: day(3, 1),
		Petitioners: []register.Petitioner{zhang}})
	if _, err := s.Pool().Exec(ctx, "UPDATE cases SET topic = 'unpaid wages' WHERE case_no = $1", newer.CaseNo); err != nil {
		t.Fatal(err)
	}
	st = stateOf(newer)
	st.Stage = "terminated"
	apply(t, s, 1, "terminated", st)

	for _, phone := range []string{"138 0000 1111", "+86 138-0000-1111", "(138)00001111", "8613800001111", "１３８００００１１１１"} {
		got, found, err = s.FindRepeat(ctx, []register.Petitioner{{Name: "x", Phone: phone}}, "appeal", "UNPAID WAGES")
		if err != nil || !found || got.CaseNo != open.CaseNo {
			t.Errorf("FindRepeat by phone %q = %s, %v, %v; want the open case %s", phone, got.CaseNo, found, err, open.CaseNo)
		}
	}
	for _, tc := range []struct {
		name  string
		ps    []register.Petitioner
		topic string
	}{
		{"other topic", []register.Petitioner{zhang}, "noise"},
		{"other person", []register.Petitioner{{IDNumber: "110105194912310000", Phone: "13900000000"}}, "unpaid wages"},
		{"no identifiers", []register.Petitioner{{Name: "张三"}}, "unpaid wages"},
	} {
		if got, found, err := s.FindRepeat(ctx, tc.ps, "appeal", tc.topic); err != nil || found {
			t.Errorf("%s: FindRepeat = %s, %v, %v; want not found", tc.name, got.CaseNo, found, err)
		}
	}
}

// Two registrations of the same person on the same matter at the same moment make one case;
// the other finds it (RepeatError) and is linked by the caller.
func TestConcurrentRepeatMakesOneCase(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = s.Register(ctx, register.NewCase{Channel: "phone", Category: "appeal",
				Topic: "Flooded basement", RegisteredAt: day(4, 1),
				Petitioners: []register.Petitioner{{Name: "李", Phone: fmt.Sprintf("139-0000-%04d", 1111)}}})
		}()
	}
	wg.Wait()
	created, repeats := 0, 0
	for _, err := range errs {
		var re *register.RepeatError
		switch {
		case err == nil:
			created++
		case errors.As(err, &re):
			repeats++
		default:
			t.Fatal(err)
		}
	}
	if created != 1 || repeats != n-1 {
		t.Fatalf("%d cases created, %d repeats; want 1 and %d", created, repeats, n-1)
	}
}

// Identity numbers, phones and query codes are sealed at rest; repeat detection still finds
// the same person by the keyed hashes, however the number was typed; rows written before
// sealing existed are sealed by SealPlaintext.
func TestPersonalDataSealedAtRest(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := mustRegister(t, s, register.NewCase{Topic: "sealed identities", Petitioners: []register.Petitioner{
		{Name: "张三", IDNumber: "11010519491231002x", Phone: "139-0000-4444"}}})
	var id, phone, code, idHash string
	if err := s.Pool().QueryRow(ctx, `SELECT p.id_number, p.phone, c.query_code, p.id_number_hash
		FROM petitioners p JOIN cases c USING (case_no) WHERE case_no = $1`, c.CaseNo).Scan(&id, &phone, &code, &idHash); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{id, phone, code} {
		if !sealing.IsSealed(v) {
			t.Errorf("stored in plain text: %q", v)
		}
	}
	if idHash == "" || strings.Contains(idHash, "1101051949") {
		t.Errorf("id_number_hash %q", idHash)
	}
	got, err := s.Get(ctx, c.CaseNo)
	if err != nil || got.Petitioners[0].IDNumber != "11010519491231002X" || got.Petitioners[0].Phone != "13900004444" || got.QueryCode != c.QueryCode {
		t.Fatalf("Get opens the sealed values: %+v %v", got.Petitioners, err)
	}
	prior, found, err := s.FindRepeat(ctx, []register.Petitioner{{Name: "张三", Phone: "+86 139 0000 4444"}}, "appeal", "Sealed identities ")
	if err != nil || !found || prior.CaseNo != c.CaseNo {
		t.Fatalf("repeat by phone hash: %v %v %v", prior.CaseNo, found, err)
	}
	if _, err := s.GetByQueryCode(ctx, c.CaseNo, c.QueryCode); err != nil {
		t.Errorf("GetByQueryCode with the right code: %v", err)
	}
	if _, err := s.GetByQueryCode(ctx, c.CaseNo, "00000000"); !errors.Is(err, register.ErrNotFound) {
		t.Errorf("GetByQueryCode with a wrong code: %v", err)
	}
	// A row from before sealing: plain values, no hashes.
	if _, err := s.Pool().Exec(ctx, `UPDATE petitioners SET id_number = '11010519491231002X', phone = '13900004444',
		id_number_hash = '', phone_hash = '' WHERE case_no = $1`, c.CaseNo); err != nil {
		t.Fatal(err)
	}
	n, err := s.SealPlaintext(ctx)
	if err != nil || n != 1 {
		t.Fatalf("SealPlaintext = %d, %v; want 1 row", n, err)
	}
	if n, err := s.SealPlaintext(ctx); err != nil || n != 0 {
		t.Fatalf("SealPlaintext again = %d, %v; want nothing", n, err)
	}
	if _, found, _ := s.FindRepeat(ctx, []register.Petitioner{{Name: "张三", IDNumber: "11010519491231002X"}}, "appeal", "sealed identities"); !found {
		t.Error("repeat by ID number not found after sealing old rows")
	}
	if _, err := register.New(s.Pool()).Get(ctx, c.CaseNo); !errors.Is(err, register.ErrNoKeys) {
		t.Errorf("a store without keys read personal data: %v", err)
	}
}

// An accusation is never filed as a repeat of another kind of petition, nor the reverse: the
// accuser's identity would reach the unit that handles the other case openly.
func TestAccusationIsNoRepeatOfAnAppeal(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	pet := []register.Petitioner{{Name: "李四", Phone: "13900005555"}}
	appeal := mustRegister(t, s, register.NewCase{Category: "appeal", Topic: "road works", Petitioners: pet})
	if _, found, err := s.FindRepeat(ctx, pet, "accusation", "road works"); err != nil || found {
		t.Fatalf("an accusation found the appeal %s as its earlier case: %v %v", appeal.CaseNo, found, err)
	}
	acc := mustRegister(t, s, register.NewCase{Category: "accusation", Topic: "road works", Petitioners: pet})
	if got, found, err := s.FindRepeat(ctx, pet, "accusation", "road works"); err != nil || !found || got.CaseNo != acc.CaseNo {
		t.Fatalf("a second accusation: %v %v %v, want %s", got.CaseNo, found, err, acc.CaseNo)
	}
	if got, _, _ := s.FindRepeat(ctx, pet, "suggestion", "road works"); got.CaseNo != appeal.CaseNo {
		t.Errorf("a suggestion repeats the appeal, not the accusation: got %q", got.CaseNo)
	}
}
