package register_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/sealing"
	"github.com/petitions/petitions/workflows"
)

// A reception day from publication to the leader's record: retried writes answer what they
// made, names and phones are sealed, the visit received names its case, the record reads the
// case's outcome from the cases table and carries no personal data.
func TestReceptionDaysAndAppointments(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	published := day(6, 1)
	nd := register.NewReceptionDay{Leader: "leader.district", Day: "2026-06-10", StartTime: "09:00", EndTime: "11:30",
		Place: "区信访局一楼接待室", Subjects: "城建、拆迁安置", Unit: "district", CreatedBy: "clerk.li",
		CreatedAt: published, IdempotencyKey: "day-1"}
	d, created, err := s.CreateReceptionDay(ctx, nd)
	if err != nil || !created {
		t.Fatalf("CreateReceptionDay: %v created=%v", err, created)
	}
	if d.Day != "2026-06-10" || d.StartTime != "09:00" || d.EndTime != "11:30" || d.LeaderName == "" ||
		d.UnitName != "区人民政府" || d.Cancelled || d.Booked != 0 {
		t.Errorf("day = %+v", d)
	}
	again, created, err := s.CreateReceptionDay(ctx, nd)
	if err != nil || created || again.ID != d.ID {
		t.Errorf("retry: %+v created=%v %v", again, created, err)
	}
	other := nd
	other.Place = "别处"
	if _, _, err := s.CreateReceptionDay(ctx, other); !errors.Is(err, register.ErrConflict) {
		t.Errorf("key reused for another day: %v, want ErrConflict", err)
	}
	// A second day, without hours, of another leader.
	d2, _, err := s.CreateReceptionDay(ctx, register.NewReceptionDay{Leader: "leader.construction", Day: "2026-06-12",
		Place: "区住建局", Unit: "construction", CreatedBy: "clerk.li", IdempotencyKey: "day-2"})
	if err != nil || d2.StartTime != "" || d2.EndTime != "" {
		t.Fatalf("second day: %+v %v", d2, err)
	}
	days, err := s.ReceptionDays(ctx, register.ReceptionDayFilter{From: "2026-06-01", To: "2026-06-30"})
	if err != nil || len(days) != 2 || days[0].ID != d.ID || days[1].ID != d2.ID {
		t.Fatalf("June: %+v %v", days, err)
	}
	if days, _ := s.ReceptionDays(ctx, register.ReceptionDayFilter{From: "2026-06-01", To: "2026-06-30", Leader: "leader.construction"}); len(days) != 1 || days[0].ID != d2.ID {
		t.Errorf("by leader: %+v", days)
	}
	if days, _ := s.ReceptionDays(ctx, register.ReceptionDayFilter{From: "2026-06-11", To: "2026-06-11"}); len(days) != 0 {
		t.Errorf("11 June: %+v", days)
	}

	// Appointments: one for a new matter, one for an existing case.
	existing := mustRegister(t, s, register.NewCase{Topic: "拆迁补偿款未到位", Content: "补偿款拖欠", Policy: "default",
		RegisteredBy: "clerk.li", Petitioners: []register.Petitioner{{Name: "钱七", Phone: "13900007777"}}})
	na := register.NewAppointment{ReceptionDay: d.ID, PetitionerName: "孙八", PetitionerPhone: "139-0000 8888",
		Subject: "小区加装电梯纠纷", CreatedBy: "clerk.li", CreatedAt: published, IdempotencyKey: "appt-1"}
	a1, created, err := s.BookAppointment(ctx, na)
	if err != nil || !created || a1.Status != register.AppointmentBooked || a1.PetitionerName != "孙八" ||
		a1.PetitionerPhone != "13900008888" || a1.CaseNo != "" {
		t.Fatalf("book: %+v created=%v %v", a1, created, err)
	}
	if again, created, err := s.BookAppointment(ctx, na); err != nil || created || again.ID != a1.ID {
		t.Errorf("retry: %+v created=%v %v", again, created, err)
	}
	changed := na
	changed.Subject = "另一件事"
	if _, _, err := s.BookAppointment(ctx, changed); !errors.Is(err, register.ErrConflict) {
		t.Errorf("key reused for another appointment: %v", err)
	}
	a2, _, err := s.BookAppointment(ctx, register.NewAppointment{ReceptionDay: d.ID, CaseNo: existing.CaseNo,
		PetitionerName: "钱七", PetitionerPhone: "13900007777", Subject: "补偿款", CreatedBy: "clerk.li", IdempotencyKey: "appt-2"})
	if err != nil || a2.CaseNo != existing.CaseNo {
		t.Fatalf("book for a case: %+v %v", a2, err)
	}
	a3, _, err := s.BookAppointment(ctx, register.NewAppointment{ReceptionDay: d.ID, PetitionerName: "周九",
		PetitionerPhone: "13900009999", Subject: "噪音", CreatedBy: "clerk.li", IdempotencyKey: "appt-3"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.BookAppointment(ctx, register.NewAppointment{ReceptionDay: 999999, PetitionerName: "x",
		PetitionerPhone: "1390000", Subject: "x", CreatedBy: "clerk.li", IdempotencyKey: "appt-none"}); !errors.Is(err, register.ErrNotFound) {
		t.Errorf("unknown day: %v", err)
	}

	// Sealed at rest: neither the name nor the phone is in the table; the phone's keyed hash is.
	var rawName, rawPhone, hash string
	if err := s.Pool().QueryRow(ctx, `SELECT petitioner_name, petitioner_phone, phone_hash FROM reception_appointments
		WHERE id = $1`, a1.ID).Scan(&rawName, &rawPhone, &hash); err != nil {
		t.Fatal(err)
	}
	if rawName == "孙八" || rawPhone == "13900008888" || rawName == "" || rawPhone == "" {
		t.Errorf("stored in plain text: %q %q", rawName, rawPhone)
	}
	if want := sealing.NewFields(sealing.TestKeyring()).Index("13900008888"); hash != want {
		t.Errorf("phone hash %q, want the keyed hash %q", hash, want)
	}
	list, err := s.Appointments(ctx, d.ID)
	if err != nil || len(list) != 3 || list[0].PetitionerName != "孙八" || list[1].CaseNo != existing.CaseNo {
		t.Fatalf("appointments: %+v %v", list, err)
	}
	// The stage of the case an appointment is booked for comes with it (a new matter has none).
	if list[0].CaseStage != "" || list[1].CaseStage != string(workflows.StageRegistered) || list[2].CaseStage != "" {
		t.Errorf("case stages: %q %q %q", list[0].CaseStage, list[1].CaseStage, list[2].CaseStage)
	}
	if a, err := s.AppointmentByID(ctx, a2.ID); err != nil || a.CaseStage != string(workflows.StageRegistered) {
		t.Errorf("appointment for a case: %+v %v", a, err)
	}

	// The visit of the new matter becomes a case with the leader in charge from the start.
	visit := mustRegister(t, s, register.NewCase{Topic: "小区加装电梯纠纷", Content: "接访登记", Policy: "default",
		RegisteredBy: "clerk.li", Leader: "leader.district", IdempotencyKey: "reception-appointment-1",
		Petitioners: []register.Petitioner{{Name: "孙八", Phone: "13900008888"}}})
	if visit.Leader != "leader.district" {
		t.Errorf("registered leader %q", visit.Leader)
	}
	at := day(6, 10)
	r1 := register.Reception{Appointment: a1.ID, CaseNo: visit.CaseNo, As: register.ReceivedRegistered, By: "leader.district",
		At: at, Outcome: "当场答复，责成住建局十日内办理"}
	got, err := s.ReceiveAppointment(ctx, r1)
	if err != nil || got.Status != register.AppointmentReceived || got.ReceivedCaseNo != visit.CaseNo ||
		got.ReceivedAs != register.ReceivedRegistered || got.ReceivedAt == nil || !got.ReceivedAt.Equal(at) || got.RecordedBy != "leader.district" {
		t.Fatalf("receive: %+v %v", got, err)
	}
	if got.CaseStage != string(workflows.StageRegistered) {
		t.Errorf("the received case's stage: %q", got.CaseStage)
	}
	if again, err := s.ReceiveAppointment(ctx, r1); err != nil || !again.UpdatedAt.Equal(got.UpdatedAt) {
		t.Errorf("received again: %+v %v", again, err)
	}
	other1 := r1
	other1.CaseNo = existing.CaseNo
	if _, err := s.ReceiveAppointment(ctx, other1); !errors.Is(err, register.ErrConflict) {
		t.Errorf("received as another case: %v", err)
	}
	if _, err := s.ReceiveAppointment(ctx, register.Reception{Appointment: a2.ID, CaseNo: existing.CaseNo,
		As: register.ReceivedLeaderAssigned, By: "clerk.li", At: at}); err != nil {
		t.Fatal(err)
	}
	var refused *register.ReceptionError
	if _, err := s.NoShowAppointment(ctx, a1.ID, "clerk.li", at, ""); !errors.As(err, &refused) {
		t.Errorf("no-show of a received appointment: %v", err)
	}
	ns, err := s.NoShowAppointment(ctx, a3.ID, "clerk.li", at, "电话未接通")
	if err != nil || ns.Status != register.AppointmentNoShow || ns.Outcome != "电话未接通" || ns.CaseStage != "" {
		t.Errorf("no-show: %+v %v", ns, err)
	}
	if _, err := s.NoShowAppointment(ctx, a3.ID, "clerk.li", at, ""); err != nil {
		t.Errorf("no-show again: %v", err)
	}
	if _, err := s.AppointmentByID(ctx, 999999); !errors.Is(err, register.ErrNotFound) {
		t.Errorf("unknown appointment: %v", err)
	}

	// A day with received visits is not cancelled; another day is, with its booked appointments.
	if _, err := s.CancelReceptionDay(ctx, d.ID, "clerk.li", at, "x"); !errors.As(err, &refused) {
		t.Errorf("cancel a day with visits: %v", err)
	}
	b, _, err := s.BookAppointment(ctx, register.NewAppointment{ReceptionDay: d2.ID, PetitionerName: "吴十",
		PetitionerPhone: "13900001010", Subject: "物业", CreatedBy: "clerk.li", IdempotencyKey: "appt-4"})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := s.CancelReceptionDay(ctx, d2.ID, "supervisor.zhao", at, "领导另有公务")
	if err != nil || !cancelled.Cancelled || cancelled.CancelReason != "领导另有公务" || cancelled.CancelledBy != "supervisor.zhao" {
		t.Fatalf("cancel: %+v %v", cancelled, err)
	}
	if again, err := s.CancelReceptionDay(ctx, d2.ID, "clerk.li", at.Add(time.Hour), "again"); err != nil || again.CancelReason != "领导另有公务" {
		t.Errorf("cancel again: %+v %v", again, err)
	}
	if got, _ := s.AppointmentByID(ctx, b.ID); got.Status != register.AppointmentCancelled {
		t.Errorf("appointment of a cancelled day: %s", got.Status)
	}
	if _, err := s.ReceiveAppointment(ctx, register.Reception{Appointment: b.ID, CaseNo: visit.CaseNo, As: register.ReceivedRegistered,
		By: "clerk.li", At: at}); !errors.As(err, &refused) {
		t.Errorf("receive a cancelled appointment: %v", err)
	}
	if _, _, err := s.BookAppointment(ctx, register.NewAppointment{ReceptionDay: d2.ID, PetitionerName: "x",
		PetitionerPhone: "1390000", Subject: "x", CreatedBy: "clerk.li", IdempotencyKey: "appt-5"}); !errors.As(err, &refused) {
		t.Errorf("book on a cancelled day: %v", err)
	}
	if days, _ := s.ReceptionDays(ctx, register.ReceptionDayFilter{From: "2026-06-01", To: "2026-06-30"}); len(days) != 1 {
		t.Errorf("cancelled days are left out unless asked: %+v", days)
	}
	if days, _ := s.ReceptionDays(ctx, register.ReceptionDayFilter{From: "2026-06-01", To: "2026-06-30", Cancelled: true}); len(days) != 2 {
		t.Errorf("with cancelled days: %+v", days)
	}

	// The existing case closes satisfied: the record reads it from the cases table.
	st := stateOf(existing)
	accepted, closed := day(6, 2), day(6, 20)
	st.Stage, st.Unit, st.Leader, st.AcceptedAt = workflows.StageHandling, "construction", "leader.district", &accepted
	apply(t, s, 1, workflows.EventAccepted, st)
	st.Stage, st.ClosedAt, st.Evaluation = workflows.StageClosed, &closed, workflows.EvaluationSatisfied
	apply(t, s, 2, workflows.EventClosed, st)
	// The appointments read the case's stage as the register has it now: closed (final).
	list, err = s.Appointments(ctx, d.ID)
	if err != nil || len(list) != 3 || list[1].CaseStage != string(workflows.StageClosed) || !workflows.Stage(list[1].CaseStage).Final() ||
		list[0].CaseStage != string(workflows.StageRegistered) {
		t.Errorf("appointments after the case closed: %+v %v", list, err)
	}
	// A case booked for, closed, whose visit was registered as a new case: the received case's stage.
	a6, _, err := s.BookAppointment(ctx, register.NewAppointment{ReceptionDay: d.ID, CaseNo: existing.CaseNo,
		PetitionerName: "钱七", PetitionerPhone: "13900007777", Subject: "补偿款又拖欠", CreatedBy: "clerk.li", IdempotencyKey: "appt-6"})
	if err != nil || a6.CaseStage != string(workflows.StageClosed) {
		t.Fatalf("book for a closed case: %+v %v", a6, err)
	}
	revisit := mustRegister(t, s, register.NewCase{Topic: "补偿款又拖欠", Content: "接访登记", Policy: "default",
		RegisteredBy: "clerk.li", Leader: "leader.district", IdempotencyKey: "reception-appointment-6",
		Petitioners: []register.Petitioner{{Name: "钱七", Phone: "13900007777"}}})
	if got, err := s.ReceiveAppointment(ctx, register.Reception{Appointment: a6.ID, CaseNo: revisit.CaseNo,
		As: register.ReceivedRegistered, By: "clerk.li", At: at}); err != nil || got.CaseStage != string(workflows.StageRegistered) {
		t.Errorf("received as a new case: %+v %v", got, err)
	}

	record, err := s.ReceptionRecord(ctx, "leader.district", "2026-06-01", "2026-06-30")
	if err != nil || len(record) != 1 {
		t.Fatalf("record: %+v %v", record, err)
	}
	rd := record[0]
	if rd.ID != d.ID || rd.Received != 3 || rd.NoShow != 1 || len(rd.Appointments) != 4 || len(rd.Cases) != 3 {
		t.Fatalf("record day: %+v", rd)
	}
	for _, a := range rd.Appointments {
		if a.PetitionerName != "" || a.PetitionerPhone != "" {
			t.Errorf("the record carries personal data: %+v", a)
		}
		if a.ID == a2.ID && a.CaseStage != string(workflows.StageClosed) {
			t.Errorf("the record's appointment lacks its case's stage: %+v", a)
		}
	}
	byCase := map[string]register.ReceivedCase{}
	for _, c := range rd.Cases {
		byCase[c.CaseNo] = c
	}
	if c := byCase[visit.CaseNo]; c.Stage != "registered" || c.ReceivedAs != register.ReceivedRegistered || c.Appointment != a1.ID || c.Channel != "visit" {
		t.Errorf("the new case in the record: %+v", c)
	}
	if c := byCase[existing.CaseNo]; c.Stage != "closed" || c.Evaluation != workflows.EvaluationSatisfied || c.ClosedAt == nil ||
		!c.ClosedAt.Equal(closed) || c.Leader != "leader.district" || c.Unit != "construction" {
		t.Errorf("the existing case in the record: %+v", c)
	}
	if record, _ := s.ReceptionRecord(ctx, "leader.construction", "2026-06-01", "2026-06-30"); len(record) != 0 {
		t.Errorf("a cancelled day is no reception: %+v", record)
	}
	if record, _ := s.ReceptionRecord(ctx, "", "2026-06-01", "2026-06-30"); len(record) != 1 {
		t.Errorf("every leader's record: %+v", record)
	}
}

// Two receptions of one appointment at once, and a booking racing the day's cancellation:
// each ends in one consistent state.
func TestReceptionRaces(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	d, _, err := s.CreateReceptionDay(ctx, register.NewReceptionDay{Leader: "leader.health", Day: "2026-07-01",
		Place: "区卫健局", Unit: "health", CreatedBy: "clerk.li", IdempotencyKey: "race-day"})
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := s.BookAppointment(ctx, register.NewAppointment{ReceptionDay: d.ID, PetitionerName: "郑一",
		PetitionerPhone: "13900002020", Subject: "医疗纠纷", CreatedBy: "clerk.li", IdempotencyKey: "race-appt"})
	if err != nil {
		t.Fatal(err)
	}
	c := mustRegister(t, s, register.NewCase{Topic: "医疗纠纷", Content: "x", Policy: "default", RegisteredBy: "clerk.li",
		Petitioners: []register.Petitioner{{Name: "郑一", Phone: "13900002020"}}})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := s.ReceiveAppointment(ctx, register.Reception{Appointment: a.ID, CaseNo: c.CaseNo,
				As: register.ReceivedRegistered, By: "clerk.li", At: day(7, 1)})
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent receptions of the same case: %v", err)
		}
	}
	if got, _ := s.AppointmentByID(ctx, a.ID); got.Status != register.AppointmentReceived || got.ReceivedCaseNo != c.CaseNo {
		t.Errorf("after the race: %+v", got)
	}
}
