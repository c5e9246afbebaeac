package register

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Leader reception days (领导接访日) and appointments (约访): the petition office publishes which
// leader receives petitioners on which day, where and on which subjects; a clerk books a
// petitioner's appointment on a day, for a new matter or an existing case; the visit is
// marked received with the case it concerns (the existing case, or the one registered from
// the visit, the receiving leader its leader in charge 包案领导), or as a no-show. The leader's
// reception record lists each day's appointments and the cases received with their outcome,
// read from the cases table.
//
// An appointment's petitioner name and phone are personal data: sealed with the office's keys
// like the petitioners' ID numbers and phones, the phone's keyed hash beside them.

// Appointment statuses.
const (
	AppointmentBooked    = "booked"    // 已预约
	AppointmentReceived  = "received"  // 已接待
	AppointmentNoShow    = "no_show"   // 未到访
	AppointmentCancelled = "cancelled" // 已取消 (the reception day was cancelled)
)

// How a received appointment's case came about (Appointment.ReceivedAs).
const (
	ReceivedRegistered     = "registered"      // a new case registered from the visit
	ReceivedRepeat         = "repeat"          // a repeat petition (重复信访) linked to an open case
	ReceivedLeaderAssigned = "leader_assigned" // the appointment's own open case
)

// ReceptionDay is one published reception day.
type ReceptionDay struct {
	ID int64 `json:"id"`
	// Leader is the receiving leader's staff ID; Unit the unit the day is held for.
	Leader     string `json:"leader"`
	LeaderName string `json:"leader_name"`
	// Day is a civil date (YYYY-MM-DD, Asia/Shanghai); StartTime and EndTime are HH:MM, or
	// empty when not announced.
	Day          string     `json:"day"`
	StartTime    string     `json:"start_time,omitempty"`
	EndTime      string     `json:"end_time,omitempty"`
	Place        string     `json:"place"`
	Subjects     string     `json:"subjects"`
	Unit         string     `json:"unit"`
	UnitName     string     `json:"unit_name"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	Cancelled    bool       `json:"cancelled"`
	CancelledBy  string     `json:"cancelled_by,omitempty"`
	CancelledAt  *time.Time `json:"cancelled_at,omitempty"`
	CancelReason string     `json:"cancel_reason,omitempty"`
	// The day's appointments by status.
	Booked   int `json:"booked"`
	Received int `json:"received"`
	NoShow   int `json:"no_show"`
}

// NewReceptionDay is a reception day as the office publishes it.
type NewReceptionDay struct {
	Leader    string
	Day       string // YYYY-MM-DD
	StartTime string // HH:MM or ""
	EndTime   string // HH:MM or ""
	Place     string
	Subjects  string
	Unit      string
	CreatedBy string
	CreatedAt time.Time
	// IdempotencyKey: the same key answers the day it made (required).
	IdempotencyKey string
}

// ReceptionDayFilter selects reception days: From and To are civil dates (YYYY-MM-DD), both
// included; Leader a staff ID ("" any); cancelled days only with Cancelled.
type ReceptionDayFilter struct {
	From, To  string
	Leader    string
	Cancelled bool
	Limit     int
}

// Appointment is a petitioner's appointment on a reception day.
type Appointment struct {
	ID           int64 `json:"id"`
	ReceptionDay int64 `json:"reception_day"`
	// CaseNo is the existing case the appointment is about ("" a new matter).
	CaseNo string `json:"case_no,omitempty"`
	// PetitionerName and PetitionerPhone are personal data: left empty where the register
	// does not open them (the reception record).
	PetitionerName  string `json:"petitioner_name,omitempty"`
	PetitionerPhone string `json:"petitioner_phone,omitempty"`
	Subject         string `json:"subject"`
	Status          string `json:"status"`
	// The visit: when, the case it concerns and how (Received*), who recorded it (or the
	// no-show), and the note of what was said and decided (接访情况).
	ReceivedAt     *time.Time `json:"received_at,omitempty"`
	ReceivedCaseNo string     `json:"received_case_no,omitempty"`
	ReceivedAs     string     `json:"received_as,omitempty"`
	RecordedBy     string     `json:"recorded_by,omitempty"`
	Outcome        string     `json:"outcome,omitempty"`
	CreatedBy      string     `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	// CaseStage is the stage, as the register's cases row has it now, of the case the
	// appointment concerns: the case received (ReceivedCaseNo), else the case it was booked
	// for (CaseNo); "" when neither. Read in the same query (a join), and no personal data.
	CaseStage string `json:"case_stage,omitempty"`
}

// NewAppointment is an appointment as a clerk books it.
type NewAppointment struct {
	ReceptionDay    int64
	CaseNo          string
	PetitionerName  string
	PetitionerPhone string
	Subject         string
	CreatedBy       string
	CreatedAt       time.Time
	// IdempotencyKey: the same key answers the appointment it made (required).
	IdempotencyKey string
}

// Reception is a visit received: the appointment, the case it concerns and how.
type Reception struct {
	Appointment int64
	CaseNo      string
	As          string // Received*
	By          string
	At          time.Time
	Outcome     string
}

// ReceptionRecordDay is one day of a leader's reception record: the day, its appointments
// (without personal data) and the cases received with their outcome as the register has it.
type ReceptionRecordDay struct {
	ReceptionDay
	Appointments []Appointment  `json:"appointments"`
	Cases        []ReceivedCase `json:"cases"`
}

// ReceivedCase is a case received on a reception day and where it stands now.
type ReceivedCase struct {
	CaseNo      string `json:"case_no"`
	Appointment int64  `json:"appointment"`
	ReceivedAs  string `json:"received_as"`
	Channel     string `json:"channel"`
	Category    string `json:"category"`
	Stage       string `json:"stage"`
	Unit        string `json:"unit,omitempty"`
	// Leader is the case's leader in charge now (another, if it changed since).
	Leader       string     `json:"leader,omitempty"`
	Overdue      bool       `json:"overdue"`
	DueAt        *time.Time `json:"due_at,omitempty"`
	Evaluation   string     `json:"evaluation,omitempty"`
	RegisteredAt time.Time  `json:"registered_at"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
}

// ReceptionError: the day or the appointment is not in a state that allows the change (a
// cancelled day, an appointment received already). The message is written for the caller.
type ReceptionError struct{ Msg string }

func (e *ReceptionError) Error() string { return e.Msg }

// receptionLockClass namespaces the transaction locks taken per reception idempotency key.
const receptionLockClass int32 = 0x7263

const receptionDayColumns = `d.id, d.leader, COALESCE(st.name, ''), to_char(d.day, 'YYYY-MM-DD'),
	COALESCE(to_char(d.start_time, 'HH24:MI'), ''), COALESCE(to_char(d.end_time, 'HH24:MI'), ''),
	d.place, d.subjects, d.unit, COALESCE(u.name, ''), d.created_by, d.created_at, d.cancelled,
	d.cancelled_by, d.cancelled_at, d.cancel_reason,
	COALESCE(n.booked, 0), COALESCE(n.received, 0), COALESCE(n.no_show, 0)`

const receptionDayFrom = ` FROM reception_days d
	LEFT JOIN staff st ON st.id = d.leader
	LEFT JOIN units u ON u.code = d.unit
	LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE a.status = 'booked')::int AS booked,
			count(*) FILTER (WHERE a.status = 'received')::int AS received,
			count(*) FILTER (WHERE a.status = 'no_show')::int AS no_show
		FROM reception_appointments a WHERE a.reception_day = d.id) n ON true`

func scanReceptionDay(row pgx.CollectableRow) (ReceptionDay, error) {
	var d ReceptionDay
	err := row.Scan(&d.ID, &d.Leader, &d.LeaderName, &d.Day, &d.StartTime, &d.EndTime, &d.Place,
		&d.Subjects, &d.Unit, &d.UnitName, &d.CreatedBy, &d.CreatedAt, &d.Cancelled, &d.CancelledBy,
		&d.CancelledAt, &d.CancelReason, &d.Booked, &d.Received, &d.NoShow)
	return d, err
}

func receptionDayWhere(ctx context.Context, q querier, where string, args ...any) (ReceptionDay, error) {
	rows, _ := q.Query(ctx, `SELECT `+receptionDayColumns+receptionDayFrom+` WHERE `+where, args...)
	d, err := pgx.CollectExactlyOneRow(rows, scanReceptionDay)
	if errNoRows(err) {
		return ReceptionDay{}, ErrNotFound
	}
	return d, err
}

// CreateReceptionDay publishes a reception day. The same idempotency key again answers the
// day it made (created false), or ErrConflict when it was used for another day.
func (s *Store) CreateReceptionDay(ctx context.Context, nd NewReceptionDay) (d ReceptionDay, created bool, err error) {
	if nd.IdempotencyKey == "" {
		return ReceptionDay{}, false, fmt.Errorf("%w: a reception day needs an idempotency key", ErrInvalidInput)
	}
	if nd.CreatedAt.IsZero() {
		nd.CreatedAt = time.Now()
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", receptionLockClass, "day|"+nd.IdempotencyKey); err != nil {
			return err
		}
		existing, err := receptionDayWhere(ctx, tx, "d.idempotency_key = $1", nd.IdempotencyKey)
		switch {
		case err == nil:
			if existing.Leader != nd.Leader || existing.Day != nd.Day || existing.StartTime != nd.StartTime ||
				existing.EndTime != nd.EndTime || existing.Place != nd.Place || existing.Subjects != nd.Subjects ||
				existing.Unit != nd.Unit {
				return fmt.Errorf("%w: idempotency key %q was used for another reception day (%d)", ErrConflict, nd.IdempotencyKey, existing.ID)
			}
			d = existing
			return nil
		case !errors.Is(err, ErrNotFound):
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO reception_days (leader, day, start_time, end_time, place, subjects,
				unit, created_by, created_at, idempotency_key)
			VALUES ($1, $2::date, NULLIF($3, '')::time, NULLIF($4, '')::time, $5, $6, $7, $8, $9, $10)
			RETURNING id`,
			nd.Leader, nd.Day, nd.StartTime, nd.EndTime, nd.Place, nd.Subjects, nd.Unit, nd.CreatedBy,
			nd.CreatedAt, nd.IdempotencyKey).Scan(&id); err != nil {
			return fmt.Errorf("insert reception day: %w", err)
		}
		d, err = receptionDayWhere(ctx, tx, "d.id = $1", id)
		created = true
		return err
	})
	if err != nil {
		return ReceptionDay{}, false, err
	}
	return d, created, nil
}

// ReceptionDayByID returns one reception day, or ErrNotFound.
func (s *Store) ReceptionDayByID(ctx context.Context, id int64) (ReceptionDay, error) {
	return receptionDayWhere(ctx, s.pool, "d.id = $1", id)
}

// ReceptionDays lists the reception days f selects by day, start time and ID.
func (s *Store) ReceptionDays(ctx context.Context, f ReceptionDayFilter) ([]ReceptionDay, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+receptionDayColumns+receptionDayFrom+`
		WHERE d.day BETWEEN $1::date AND $2::date AND ($3 = '' OR d.leader = $3) AND ($4 OR NOT d.cancelled)
		ORDER BY d.day, d.start_time NULLS FIRST, d.id LIMIT $5`, f.From, f.To, f.Leader, f.Cancelled, f.Limit)
	return pgx.CollectRows(rows, scanReceptionDay)
}

// CancelReceptionDay cancels a reception day and the appointments booked on it. Cancelling a
// cancelled day changes nothing; a day on which visits were received is not cancelled.
func (s *Store) CancelReceptionDay(ctx context.Context, id int64, by string, at time.Time, reason string) (ReceptionDay, error) {
	var d ReceptionDay
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var cancelled bool
		if err := tx.QueryRow(ctx, `SELECT cancelled FROM reception_days WHERE id = $1 FOR UPDATE`, id).Scan(&cancelled); err != nil {
			if errNoRows(err) {
				return ErrNotFound
			}
			return err
		}
		if !cancelled {
			var received int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM reception_appointments
				WHERE reception_day = $1 AND status = 'received'`, id).Scan(&received); err != nil {
				return err
			}
			if received > 0 {
				return &ReceptionError{Msg: fmt.Sprintf("reception day %d is not cancelled: %d visits were received on it", id, received)}
			}
			if _, err := tx.Exec(ctx, `UPDATE reception_days SET cancelled = true, cancelled_by = $2,
				cancelled_at = $3, cancel_reason = $4 WHERE id = $1`, id, by, at, reason); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE reception_appointments SET status = 'cancelled', recorded_by = $2,
				updated_at = $3 WHERE reception_day = $1 AND status = 'booked'`, id, by, at); err != nil {
				return err
			}
		}
		var err error
		d, err = receptionDayWhere(ctx, tx, "d.id = $1", id)
		return err
	})
	return d, err
}

const appointmentColumns = `a.id, a.reception_day, COALESCE(a.case_no, ''), a.petitioner_name, a.petitioner_phone,
	a.subject, a.status, a.received_at, COALESCE(a.received_case_no, ''), a.received_as, a.recorded_by,
	a.outcome, a.created_by, a.created_at, a.updated_at, COALESCE(cs.stage, '')`

// appointmentFrom joins an appointment's case (the case received, else the case booked for) for
// its stage. A row lock names the appointment: FOR UPDATE OF a (the case is on the nullable side
// of the join).
const appointmentFrom = ` FROM reception_appointments a
	LEFT JOIN cases cs ON cs.case_no = COALESCE(NULLIF(a.received_case_no, ''), a.case_no)`

func scanAppointment(row pgx.CollectableRow) (Appointment, error) {
	var a Appointment
	err := row.Scan(&a.ID, &a.ReceptionDay, &a.CaseNo, &a.PetitionerName, &a.PetitionerPhone, &a.Subject,
		&a.Status, &a.ReceivedAt, &a.ReceivedCaseNo, &a.ReceivedAs, &a.RecordedBy, &a.Outcome, &a.CreatedBy,
		&a.CreatedAt, &a.UpdatedAt, &a.CaseStage)
	return a, err
}

// openAppointment opens the sealed name and phone.
func openAppointment(x Sealer, a *Appointment) (err error) {
	if a.PetitionerName, err = x.Open(a.PetitionerName); err != nil {
		return fmt.Errorf("appointment %d: %w", a.ID, err)
	}
	if a.PetitionerPhone, err = x.Open(a.PetitionerPhone); err != nil {
		return fmt.Errorf("appointment %d: %w", a.ID, err)
	}
	return nil
}

// appointmentWhere reads one appointment with its name and phone opened, or ErrNotFound.
func (s *Store) appointmentWhere(ctx context.Context, q querier, where string, args ...any) (Appointment, error) {
	x, err := s.sealer()
	if err != nil {
		return Appointment{}, err
	}
	rows, _ := q.Query(ctx, `SELECT `+appointmentColumns+appointmentFrom+` WHERE `+where, args...)
	a, err := pgx.CollectExactlyOneRow(rows, scanAppointment)
	if errNoRows(err) {
		return Appointment{}, ErrNotFound
	}
	if err != nil {
		return Appointment{}, err
	}
	return a, openAppointment(x, &a)
}

// BookAppointment books an appointment on a reception day that is not cancelled. The same
// idempotency key again answers the appointment it made (created false), or ErrConflict when
// it was used for another. ErrNotFound: no such day.
func (s *Store) BookAppointment(ctx context.Context, na NewAppointment) (a Appointment, created bool, err error) {
	if na.IdempotencyKey == "" {
		return Appointment{}, false, fmt.Errorf("%w: an appointment needs an idempotency key", ErrInvalidInput)
	}
	if na.CreatedAt.IsZero() {
		na.CreatedAt = time.Now()
	}
	x, err := s.sealer()
	if err != nil {
		return Appointment{}, false, err
	}
	name, err := x.Seal(na.PetitionerName)
	if err != nil {
		return Appointment{}, false, err
	}
	// The phone is kept as its digits, as the petitioners' phones are.
	na.PetitionerPhone = normalizePhone(na.PetitionerPhone)
	phone, err := x.Seal(na.PetitionerPhone)
	if err != nil {
		return Appointment{}, false, err
	}
	phoneHash := ""
	if na.PetitionerPhone != "" {
		phoneHash = x.Index(na.PetitionerPhone)
	}
	var caseNo *string
	if na.CaseNo != "" {
		caseNo = &na.CaseNo
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", receptionLockClass, "appointment|"+na.IdempotencyKey); err != nil {
			return err
		}
		existing, err := s.appointmentWhere(ctx, tx, "a.idempotency_key = $1", na.IdempotencyKey)
		switch {
		case err == nil:
			if existing.ReceptionDay != na.ReceptionDay || existing.CaseNo != na.CaseNo || existing.Subject != na.Subject ||
				existing.PetitionerName != na.PetitionerName || existing.PetitionerPhone != na.PetitionerPhone {
				return fmt.Errorf("%w: idempotency key %q was used for another appointment (%d)", ErrConflict, na.IdempotencyKey, existing.ID)
			}
			a = existing
			return nil
		case !errors.Is(err, ErrNotFound):
			return err
		}
		// The day is held (FOR SHARE) so a cancellation cannot slip in between.
		var cancelled bool
		if err := tx.QueryRow(ctx, `SELECT cancelled FROM reception_days WHERE id = $1 FOR SHARE`, na.ReceptionDay).Scan(&cancelled); err != nil {
			if errNoRows(err) {
				return ErrNotFound
			}
			return err
		}
		if cancelled {
			return &ReceptionError{Msg: fmt.Sprintf("reception day %d is cancelled: book on another day", na.ReceptionDay)}
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO reception_appointments (reception_day, case_no, petitioner_name,
				petitioner_phone, phone_hash, subject, created_by, created_at, updated_at, idempotency_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id`,
			na.ReceptionDay, caseNo, name, phone, phoneHash, na.Subject, na.CreatedBy, na.CreatedAt,
			na.IdempotencyKey).Scan(&id); err != nil {
			return fmt.Errorf("insert appointment: %w", err)
		}
		a, err = s.appointmentWhere(ctx, tx, "a.id = $1", id)
		created = true
		return err
	})
	if err != nil {
		return Appointment{}, false, err
	}
	return a, created, nil
}

// AppointmentByID returns one appointment with the petitioner's name and phone, or ErrNotFound.
func (s *Store) AppointmentByID(ctx context.Context, id int64) (Appointment, error) {
	return s.appointmentWhere(ctx, s.pool, "a.id = $1", id)
}

// Appointments lists a reception day's appointments, in booking order, with the petitioners'
// names and phones.
func (s *Store) Appointments(ctx context.Context, day int64) ([]Appointment, error) {
	x, err := s.sealer()
	if err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+appointmentColumns+appointmentFrom+`
		WHERE a.reception_day = $1 ORDER BY a.id`, day)
	list, err := pgx.CollectRows(rows, scanAppointment)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if err := openAppointment(x, &list[i]); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// ReceiveAppointment marks a visit received with the case it concerns. Receiving it again
// with the same case changes nothing; with another case it is ErrConflict. A no-show may be
// received after all (the petitioner came late); a cancelled appointment may not.
func (s *Store) ReceiveAppointment(ctx context.Context, r Reception) (Appointment, error) {
	if r.CaseNo == "" || r.As == "" {
		return Appointment{}, fmt.Errorf("%w: a reception names its case and how", ErrInvalidInput)
	}
	var a Appointment
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		cur, err := s.appointmentWhere(ctx, tx, "a.id = $1 FOR UPDATE OF a", r.Appointment)
		if err != nil {
			return err
		}
		switch cur.Status {
		case AppointmentReceived:
			if cur.ReceivedCaseNo != r.CaseNo {
				return fmt.Errorf("%w: appointment %d was received already, as case %s", ErrConflict, cur.ID, cur.ReceivedCaseNo)
			}
			a = cur
			return nil
		case AppointmentCancelled:
			return &ReceptionError{Msg: fmt.Sprintf("appointment %d was cancelled with its reception day", cur.ID)}
		}
		if _, err := tx.Exec(ctx, `UPDATE reception_appointments SET status = 'received', received_at = $2,
				received_case_no = $3, received_as = $4, recorded_by = $5, outcome = $6, updated_at = $2
			WHERE id = $1`, r.Appointment, r.At, r.CaseNo, r.As, r.By, r.Outcome); err != nil {
			return fmt.Errorf("receive appointment %d: %w", r.Appointment, err)
		}
		a, err = s.appointmentWhere(ctx, tx, "a.id = $1", r.Appointment)
		return err
	})
	return a, err
}

// NoShowAppointment records that the petitioner did not come (未到访), with an optional note.
// Recording it again changes nothing; a received or cancelled appointment is not a no-show.
func (s *Store) NoShowAppointment(ctx context.Context, id int64, by string, at time.Time, note string) (Appointment, error) {
	var a Appointment
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		cur, err := s.appointmentWhere(ctx, tx, "a.id = $1 FOR UPDATE OF a", id)
		if err != nil {
			return err
		}
		switch cur.Status {
		case AppointmentNoShow:
			a = cur
			return nil
		case AppointmentReceived:
			return &ReceptionError{Msg: fmt.Sprintf("appointment %d was received (case %s): it is no no-show", cur.ID, cur.ReceivedCaseNo)}
		case AppointmentCancelled:
			return &ReceptionError{Msg: fmt.Sprintf("appointment %d was cancelled with its reception day", cur.ID)}
		}
		if _, err := tx.Exec(ctx, `UPDATE reception_appointments SET status = 'no_show', recorded_by = $2,
				outcome = $3, updated_at = $4 WHERE id = $1`, id, by, note, at); err != nil {
			return fmt.Errorf("no-show of appointment %d: %w", id, err)
		}
		a, err = s.appointmentWhere(ctx, tx, "a.id = $1", id)
		return err
	})
	return a, err
}

// ReceptionRecord is a leader's reception record (leader "" : every leader's) for the days
// from … to (civil dates, both included): each day that was not cancelled, its appointments
// without personal data, and the cases received with their stage, evaluation and closing as
// the register has them now.
func (s *Store) ReceptionRecord(ctx context.Context, leader, from, to string) ([]ReceptionRecordDay, error) {
	days, err := s.ReceptionDays(ctx, ReceptionDayFilter{From: from, To: to, Leader: leader})
	if err != nil {
		return nil, err
	}
	out := make([]ReceptionRecordDay, len(days))
	ids := make([]int64, len(days))
	at := make(map[int64]int, len(days))
	for i, d := range days {
		out[i] = ReceptionRecordDay{ReceptionDay: d, Appointments: []Appointment{}, Cases: []ReceivedCase{}}
		ids[i] = d.ID
		at[d.ID] = i
	}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+appointmentColumns+`,
			c.case_no, c.channel, c.category, c.stage, c.unit, c.leader, c.overdue, c.due_at, c.evaluation,
			c.registered_at, c.closed_at`+appointmentFrom+`
		LEFT JOIN cases c ON c.case_no = a.received_case_no
		WHERE a.reception_day = ANY($1) ORDER BY a.reception_day, a.id`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			a                                                         Appointment
			caseNo, channel, category, stage, unit, caseLeader, grade *string
			overdue                                                   *bool
			dueAt, registeredAt, closedAt                             *time.Time
		)
		if err := rows.Scan(&a.ID, &a.ReceptionDay, &a.CaseNo, &a.PetitionerName, &a.PetitionerPhone, &a.Subject,
			&a.Status, &a.ReceivedAt, &a.ReceivedCaseNo, &a.ReceivedAs, &a.RecordedBy, &a.Outcome, &a.CreatedBy,
			&a.CreatedAt, &a.UpdatedAt, &a.CaseStage, &caseNo, &channel, &category, &stage, &unit, &caseLeader, &overdue, &dueAt,
			&grade, &registeredAt, &closedAt); err != nil {
			return nil, err
		}
		a.PetitionerName, a.PetitionerPhone = "", "" // the record carries no personal data
		d := &out[at[a.ReceptionDay]]
		d.Appointments = append(d.Appointments, a)
		if caseNo == nil || a.Status != AppointmentReceived {
			continue
		}
		rc := ReceivedCase{CaseNo: *caseNo, Appointment: a.ID, ReceivedAs: a.ReceivedAs, Channel: *channel,
			Category: *category, Stage: *stage, Unit: *unit, Leader: *caseLeader, Overdue: *overdue, DueAt: dueAt,
			Evaluation: *grade, ClosedAt: closedAt}
		if registeredAt != nil {
			rc.RegisteredAt = *registeredAt
		}
		d.Cases = append(d.Cases, rc)
	}
	return out, rows.Err()
}
