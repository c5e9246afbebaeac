package register

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/petitions/petitions/workflows"
)

// shanghai is the civil time of the register: case-number years and monthly ledgers follow
// it. China has kept UTC+8 without daylight saving since 1991, so a fixed zone is exact for
// every case this system sees and needs no tz database on the host.
var shanghai = time.FixedZone("CST", 8*60*60)

// finalStagesSQL lists the stages no action changes any more (workflows.Stage.Final).
const finalStagesSQL = `('closed', 'terminated', 'rejected', 'withdrawn')`

// Store is the register in PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	seal Sealer
}

// Sealer encrypts personal data at rest (identity numbers, phones, query codes) and computes
// the keyed hash that repeat detection compares instead of the plain value. internal/sealing
// provides it from the office's keys.
type Sealer interface {
	Seal(plain string) (string, error)
	Open(sealed string) (string, error)
	Index(normalised string) string
}

// New returns a Store on pool. The schema must be migrated (Migrate). A store without a
// Sealer (WithSealer) serves the directory, calendars and statistics but refuses to write or
// read personal data (ErrNoKeys).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// WithSealer returns a copy of the store that seals and opens personal data with x.
func (s *Store) WithSealer(x Sealer) *Store { return &Store{pool: s.pool, seal: x} }

// ErrNoKeys: personal data was to be written or read by a store without keys.
var ErrNoKeys = errors.New("register: personal data needs the office's keys (no sealer configured)")

func (s *Store) sealer() (Sealer, error) {
	if s.seal == nil {
		return nil, ErrNoKeys
	}
	return s.seal, nil
}

// Pool returns the underlying pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// caseColumns is the select list scanCase reads, in its order.
const caseColumns = `case_no, query_code, channel, category, topic, content, location, group_size,
	policy, suggested_unit, unit, handler, leader, review_unit, re_review_unit, stage, overdue,
	escalation_level, registered_by, received_at, registered_at, accepted_at, due_at, replied_at,
	closed_at, on_time, evaluation, repeat_count, seq, attachments, deadline, updated_at,
	replied_late, review_requested, re_review_requested, routines, involved_units,
	evaluation_source, call_backs, assignment_status, joint_status, joint_criteria`

func scanCase(row pgx.Row) (Case, error) {
	var c Case
	var deadline, routines []byte
	err := row.Scan(&c.CaseNo, &c.QueryCode, &c.Channel, &c.Category, &c.Topic, &c.Content,
		&c.Location, &c.GroupSize, &c.Policy, &c.SuggestedUnit, &c.Unit, &c.Handler, &c.Leader,
		&c.ReviewUnit, &c.ReReviewUnit, &c.Stage, &c.Overdue, &c.EscalationLevel, &c.RegisteredBy,
		&c.ReceivedAt, &c.RegisteredAt, &c.AcceptedAt, &c.DueAt, &c.RepliedAt, &c.ClosedAt,
		&c.OnTime, &c.Evaluation, &c.RepeatCount, &c.Seq, &c.Attachments, &deadline, &c.UpdatedAt,
		&c.RepliedLate, &c.ReviewRequested, &c.ReReviewRequested, &routines, &c.InvolvedUnits,
		&c.EvaluationSource, &c.CallBacks, &c.AssignmentStatus, &c.JointStatus, &c.JointCriteria)
	if len(deadline) > 0 {
		c.Deadline = json.RawMessage(deadline)
	}
	if len(routines) > 0 && string(routines) != "null" {
		c.Routines = json.RawMessage(routines)
	}
	return c, err
}

func collectCase(row pgx.CollectableRow) (Case, error) { return scanCase(row) }

// loadCase reads one case with its petitioners, opening their sealed identity numbers and
// phones and the sealed query code; where is a condition on cases.
func (s *Store) loadCase(ctx context.Context, q querier, where string, args ...any) (Case, error) {
	x, err := s.sealer()
	if err != nil {
		return Case{}, err
	}
	c, err := scanCase(q.QueryRow(ctx, "SELECT "+caseColumns+" FROM cases WHERE "+where, args...))
	if errNoRows(err) {
		return Case{}, ErrNotFound
	}
	if err != nil {
		return Case{}, err
	}
	if c.QueryCode, err = x.Open(c.QueryCode); err != nil {
		return Case{}, fmt.Errorf("open query code of %s: %w", c.CaseNo, err)
	}
	rows, _ := q.Query(ctx, `SELECT name, id_number, phone, address FROM petitioners
		WHERE case_no = $1 ORDER BY position`, c.CaseNo)
	c.Petitioners, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Petitioner])
	if err != nil {
		return Case{}, fmt.Errorf("petitioners of %s: %w", c.CaseNo, err)
	}
	for i := range c.Petitioners {
		if err := openPetitioner(x, &c.Petitioners[i]); err != nil {
			return Case{}, fmt.Errorf("petitioners of %s: %w", c.CaseNo, err)
		}
	}
	return c, nil
}

// sealPetitioner seals a normalised petitioner's identity number and phone; the keyed hashes
// of the normalised values are what repeat detection compares.
func sealPetitioner(x Sealer, p Petitioner) (sealed Petitioner, idHash, phoneHash string, err error) {
	id, phone := normalizeIDNumber(p.IDNumber), normalizePhone(p.Phone)
	sealed = p
	if sealed.IDNumber, err = x.Seal(id); err != nil {
		return Petitioner{}, "", "", err
	}
	if sealed.Phone, err = x.Seal(phone); err != nil {
		return Petitioner{}, "", "", err
	}
	return sealed, x.Index(id), x.Index(phone), nil
}

func openPetitioner(x Sealer, p *Petitioner) (err error) {
	if p.IDNumber, err = x.Open(p.IDNumber); err != nil {
		return err
	}
	p.Phone, err = x.Open(p.Phone)
	return err
}

// idempotencyLockClass namespaces the transaction advisory locks taken per idempotency key
// (the two-int form keeps them apart from the migration lock).
const idempotencyLockClass int32 = 0x7065

// repeatLockClass namespaces the locks taken per petitioner identity and topic.
const repeatLockClass int32 = 0x7072

// Register records a new case (stage "registered", seq 0) with its petitioners and
// attachments, numbered "YYYY-NNNNNN" in the Asia/Shanghai year of RegisteredAt. With an
// idempotency key already used, it returns the stored case and created=false, or ErrConflict
// when the stored petition differs (channel, category, topic or content).
func (s *Store) Register(ctx context.Context, nc NewCase) (c Case, created bool, err error) {
	if nc.RegisteredAt.IsZero() {
		nc.RegisteredAt = time.Now()
	}
	if nc.ReceivedAt.IsZero() {
		nc.ReceivedAt = nc.RegisteredAt
	}
	if nc.Attachments == nil {
		nc.Attachments = []Attachment{} // '[]', not JSON null
	}
	x, _, sealedCode, err := s.sealedQueryCode()
	if err != nil {
		return Case{}, false, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if nc.IdempotencyKey != "" {
			// Two submissions with one key racing each other would both miss the lookup
			// below; the lock makes the second wait and then find the first.
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))",
				idempotencyLockClass, nc.IdempotencyKey); err != nil {
				return err
			}
			existing, err := s.loadCase(ctx, tx, "idempotency_key = $1", nc.IdempotencyKey)
			switch {
			case err == nil:
				if !sameRequest(existing, nc) {
					return fmt.Errorf("%w: idempotency key %q was used for a different petition (case %s)",
						ErrConflict, nc.IdempotencyKey, existing.CaseNo)
				}
				c = existing
				return nil
			case !errors.Is(err, ErrNotFound):
				return err
			}
		}

		// Two clerks registering the same person on the same matter at the same moment must
		// not make two cases: serialise on each identity and look again for the case the
		// other may just have made.
		if err := lockIdentities(ctx, tx, x, nc.Petitioners, nc.Topic); err != nil {
			return err
		}
		if prior, found, err := s.findRepeat(ctx, tx, nc.Petitioners, nc.Category, nc.Topic); err != nil {
			return err
		} else if found && prior.CaseNo != nc.NotRepeatOf &&
			(prior.Stage == string(workflows.StageTerminated) || !workflows.Stage(prior.Stage).Final()) {
			return &RepeatError{Case: prior}
		}

		caseNo, err := nextCaseNo(ctx, tx, nc.RegisteredAt)
		if err != nil {
			return err
		}

		var key *string
		if nc.IdempotencyKey != "" {
			key = &nc.IdempotencyKey
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cases (case_no, query_code, channel, category, topic,
				content, location, group_size, policy, suggested_unit, registered_by, received_at,
				registered_at, attachments, idempotency_key, stage, seq, lodged_level, leader)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'registered', 0, $16, $17)`,
			caseNo, sealedCode, nc.Channel, nc.Category, nc.Topic, nc.Content, nc.Location, nc.GroupSize,
			nc.Policy, nc.SuggestedUnit, nc.RegisteredBy, nc.ReceivedAt, nc.RegisteredAt,
			nc.Attachments, key, nc.LodgedLevel, nc.Leader); err != nil {
			return fmt.Errorf("insert case: %w", err)
		}
		if err := insertPetitioners(ctx, tx, x, caseNo, nc.Petitioners); err != nil {
			return err
		}
		c, err = s.loadCase(ctx, tx, "case_no = $1", caseNo)
		created = true
		return err
	})
	if err != nil {
		return Case{}, false, err
	}
	return c, created, nil
}

// nextCaseNo allocates the next case number of the Asia/Shanghai year of at ("YYYY-NNNNNN"),
// holding the year's counter row until tx ends (registration and import alike).
func nextCaseNo(ctx context.Context, tx pgx.Tx, at time.Time) (string, error) {
	year := at.In(shanghai).Year()
	var n int64
	if err := tx.QueryRow(ctx, `INSERT INTO case_numbers (year, last) VALUES ($1, 1)
		ON CONFLICT (year) DO UPDATE SET last = case_numbers.last + 1
		RETURNING last`, year).Scan(&n); err != nil {
		return "", fmt.Errorf("allocate case number: %w", err)
	}
	return fmt.Sprintf("%d-%06d", year, n), nil
}

// insertPetitioners stores a new case's petitioners in order, their ID numbers and phones
// sealed with the keyed hashes beside them (registration and import alike).
func insertPetitioners(ctx context.Context, tx pgx.Tx, x Sealer, caseNo string, petitioners []Petitioner) error {
	if len(petitioners) == 0 {
		return nil
	}
	rows := make([][]any, len(petitioners))
	for i, p := range petitioners {
		sp, idHash, phoneHash, err := sealPetitioner(x, p)
		if err != nil {
			return fmt.Errorf("seal petitioner: %w", err)
		}
		rows[i] = []any{caseNo, i, sp.Name, sp.IDNumber, sp.Phone, sp.Address, idHash, phoneHash}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"petitioners"},
		[]string{"case_no", "position", "name", "id_number", "phone", "address", "id_number_hash", "phone_hash"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("insert petitioners: %w", err)
	}
	return nil
}

// RepeatError: Register found, under its lock, a case of the same petitioner and matter that
// is still open or was terminated; the caller links to it or refuses, as for FindRepeat.
type RepeatError struct{ Case Case }

func (e *RepeatError) Error() string {
	return fmt.Sprintf("repeat of case %s (stage %s)", e.Case.CaseNo, e.Case.Stage)
}

// lockIdentities takes a transaction lock per (topic, identity), in a fixed order so two
// registrations sharing several identities cannot deadlock.
func lockIdentities(ctx context.Context, tx pgx.Tx, x Sealer, petitioners []Petitioner, topic string) error {
	ids, phones := identities(x, petitioners)
	topic = strings.ToLower(strings.TrimSpace(topic))
	keys := make([]string, 0, len(ids)+len(phones))
	for _, id := range ids {
		keys = append(keys, topic+"|id|"+id)
	}
	for _, ph := range phones {
		keys = append(keys, topic+"|phone|"+ph)
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", repeatLockClass, k); err != nil {
			return err
		}
	}
	return nil
}

// sameRequest reports whether a retried registration is the one stored under its key.
func sameRequest(c Case, nc NewCase) bool {
	eq := func(a, b string) bool { return strings.TrimSpace(a) == strings.TrimSpace(b) }
	return eq(c.Channel, nc.Channel) && eq(c.Category, nc.Category) && eq(c.Topic, nc.Topic) &&
		eq(c.Content, nc.Content)
}

// newQueryCode returns a random 8-digit query code 查询码. It is a bearer secret for the
// petitioner's status page, so it comes from crypto/rand.
func newQueryCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		return "", fmt.Errorf("query code: %w", err)
	}
	return fmt.Sprintf("%08d", n.Int64()), nil
}

// sealedQueryCode draws a new query code and seals it (the register keeps only the sealed
// one), with the sealer it used for the case's other personal data.
func (s *Store) sealedQueryCode() (x Sealer, code, sealed string, err error) {
	if x, err = s.sealer(); err != nil {
		return nil, "", "", err
	}
	if code, err = newQueryCode(); err != nil {
		return nil, "", "", err
	}
	if sealed, err = x.Seal(code); err != nil {
		return nil, "", "", err
	}
	return x, code, sealed, nil
}

// normalizeIDNumber trims a resident ID number and upper-cases its 'x' check digit, so the
// same person is recognised however the clerk typed it.
func normalizeIDNumber(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// normalizePhone reduces a phone number to its digits.
func normalizePhone(s string) string {
	// Keep the digits only, so "139-0000 1111", "(139)00001111" and "+86 13900001111" are one
	// number for repeat detection; a leading country code 86 goes too.
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if r >= '０' && r <= '９' { // full-width digits typed with a Chinese IME
			return '0' + (r - '０')
		}
		return -1
	}, s)
	if strings.HasPrefix(strings.TrimSpace(s), "+86") || (len(digits) == 13 && strings.HasPrefix(digits, "86")) {
		digits = strings.TrimPrefix(digits, "86")
	}
	return digits
}

// FindRepeat looks for an earlier case of the same matter (重复信访): the same topic
// (case-insensitive, trimmed) and a petitioner sharing an ID number or phone. A case still
// open is preferred over a final one; among equals the most recently registered wins.
//
// An accusation (检举控告) and any other kind of petition are never repeats of each other: the
// accuser's submission must not be filed on a case the accused unit handles in the open.
func (s *Store) FindRepeat(ctx context.Context, petitioners []Petitioner, category, topic string) (c Case, found bool, err error) {
	return s.findRepeat(ctx, s.pool, petitioners, category, topic)
}

// identities are the keyed hashes of a petition's normalised ID numbers and phones: the
// register compares these, never the plain values.
func identities(x Sealer, petitioners []Petitioner) (ids, phones []string) {
	for _, p := range petitioners {
		if id := normalizeIDNumber(p.IDNumber); id != "" {
			ids = append(ids, x.Index(id))
		}
		if ph := normalizePhone(p.Phone); ph != "" {
			phones = append(phones, x.Index(ph))
		}
	}
	return ids, phones
}

func (s *Store) findRepeat(ctx context.Context, q querier, petitioners []Petitioner, category, topic string) (c Case, found bool, err error) {
	x, err := s.sealer()
	if err != nil {
		return Case{}, false, err
	}
	ids, phones := identities(x, petitioners)
	topic = strings.ToLower(strings.TrimSpace(topic))
	if topic == "" || (len(ids) == 0 && len(phones) == 0) {
		return Case{}, false, nil
	}
	c, err = s.loadCase(ctx, q, `topic_key = $1
		AND (category = 'accusation') = ($4 = 'accusation')
		AND EXISTS (SELECT 1 FROM petitioners p WHERE p.case_no = cases.case_no
			AND (p.id_number_hash = ANY($2) OR p.phone_hash = ANY($3)))
		ORDER BY stage IN `+finalStagesSQL+`, registered_at DESC, case_no DESC
		LIMIT 1`, topic, ids, phones, category)
	if errors.Is(err, ErrNotFound) {
		return Case{}, false, nil
	}
	if err != nil {
		return Case{}, false, err
	}
	return c, true, nil
}

// Get returns a case with its petitioners and attachments, or ErrNotFound.
func (s *Store) Get(ctx context.Context, caseNo string) (Case, error) {
	return s.loadCase(ctx, s.pool, "case_no = $1", caseNo)
}

// CaseByIdempotencyKey returns the case registered with that idempotency key (ErrNotFound
// if none), so a retried registration is recognised before repeat detection runs.
func (s *Store) CaseByIdempotencyKey(ctx context.Context, key string) (Case, error) {
	if key == "" {
		return Case{}, ErrNotFound
	}
	return s.loadCase(ctx, s.pool, "idempotency_key = $1", key)
}

// GetByQueryCode returns a case only when code is its query code; otherwise ErrNotFound,
// without saying whether the case exists. The comparison takes constant time.
func (s *Store) GetByQueryCode(ctx context.Context, caseNo, code string) (Case, error) {
	c, err := s.Get(ctx, caseNo)
	if errors.Is(err, ErrNotFound) {
		// Compare anyway, so an unknown case costs what a wrong code costs.
		subtle.ConstantTimeCompare([]byte(code), []byte("00000000"))
		return Case{}, ErrNotFound
	}
	if err != nil {
		return Case{}, err
	}
	if code == "" || subtle.ConstantTimeCompare([]byte(code), []byte(c.QueryCode)) != 1 {
		return Case{}, ErrNotFound
	}
	return c, nil
}

// ReissueQueryCode gives a case a new query code (the petitioner lost theirs) and returns it;
// the old one stops working at once.
func (s *Store) ReissueQueryCode(ctx context.Context, caseNo string) (string, error) {
	_, code, sealed, err := s.sealedQueryCode()
	if err != nil {
		return "", err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE cases SET query_code = $2, updated_at = now() WHERE case_no = $1`, caseNo, sealed)
	if err != nil {
		return "", err
	}
	if tag.RowsAffected() == 0 {
		return "", ErrNotFound
	}
	return code, nil
}

// Events returns the audit trail of a case in seq order, or ErrNotFound.
func (s *Store) Events(ctx context.Context, caseNo string) ([]workflows.Event, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM cases WHERE case_no = $1)", caseNo).
		Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return nil, ErrNotFound
	}
	rows, _ := s.pool.Query(ctx, `SELECT seq, type, at, actor_id, actor_name, actor_role, actor_unit, details
		FROM case_events WHERE case_no = $1 ORDER BY seq`, caseNo)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (workflows.Event, error) {
		var e workflows.Event
		err := row.Scan(&e.Seq, &e.Type, &e.At, &e.Actor.ID, &e.Actor.Name, &e.Actor.Role,
			&e.Actor.Unit, &e.Details)
		return e, err
	})
}

// ApplyTransition projects one workflow transition into the register. It is idempotent and
// order-safe, because activities are retried and may land late:
//   - the event is inserted once per (case_no, seq), whenever it arrives;
//   - the case row takes the state only if it is newer than the row (cases.seq < State.Seq),
//     so the row never moves backwards;
//   - the review flags only ever turn on, so they are applied whatever the order.
//
// A case unknown to the register (started outside the API) is created from the state.
func (s *Store) ApplyTransition(ctx context.Context, tr workflows.Transition) error {
	st := tr.State
	if st.CaseNo == "" {
		return fmt.Errorf("%w: transition without case number", ErrInvalidInput)
	}
	ev := tr.Event
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	var dueAt *time.Time
	var deadline []byte
	if st.Deadline != nil {
		if !st.Deadline.Due.IsZero() {
			due := st.Deadline.Due
			dueAt = &due
		}
		b, err := json.Marshal(st.Deadline)
		if err != nil {
			return fmt.Errorf("encode deadline: %w", err)
		}
		deadline = b
	}
	var onTime *bool
	if st.Stage == workflows.StageClosed || st.Stage == workflows.StageTerminated {
		v := !st.RepliedLate
		onTime = &v
	}
	var details []byte
	if len(ev.Details) > 0 {
		b, err := json.Marshal(ev.Details)
		if err != nil {
			return fmt.Errorf("encode event details: %w", err)
		}
		details = b
	}
	rt := routinesOf(st)
	reviewRequested := ev.Type == workflows.EventReviewRequested ||
		st.Stage == workflows.StageReview || st.Stage == workflows.StageReviewed ||
		st.Stage == workflows.StageReReview || ev.Type == workflows.EventReReviewRequested
	reReviewRequested := ev.Type == workflows.EventReReviewRequested || st.Stage == workflows.StageReReview

	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// A placeholder row at seq -1 for a case the register has not seen: the update
		// below then fills it from the state like any other transition.
		received, registered := st.ReceivedAt, st.RegisteredAt
		if registered.IsZero() {
			registered = ev.At
		}
		if received.IsZero() {
			received = registered
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cases (case_no, received_at, registered_at, seq)
			VALUES ($1, $2, $3, -1) ON CONFLICT (case_no) DO NOTHING`,
			st.CaseNo, received, registered); err != nil {
			return fmt.Errorf("ensure case %s: %w", st.CaseNo, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_events (case_no, seq, type, at, actor_id,
				actor_name, actor_role, actor_unit, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (case_no, seq) DO NOTHING`,
			st.CaseNo, ev.Seq, ev.Type, ev.At, ev.Actor.ID, ev.Actor.Name, string(ev.Actor.Role),
			ev.Actor.Unit, details); err != nil {
			return fmt.Errorf("record event %s#%d: %w", st.CaseNo, ev.Seq, err)
		}
		if err := applyWarning(ctx, tx, st.CaseNo, ev); err != nil { // early warning (warning.go)
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET
				stage = @stage, policy = @policy, channel = @channel, category = @category,
				topic = @topic, unit = @unit, suggested_unit = @suggested_unit, handler = @handler,
				leader = @leader, review_unit = @review_unit, re_review_unit = @re_review_unit,
				overdue = @overdue, escalation_level = @escalation_level,
				received_at = COALESCE(@received_at, received_at),
				registered_at = COALESCE(@registered_at, registered_at),
				accepted_at = @accepted_at, replied_at = @replied_at, closed_at = @closed_at,
				due_at = @due_at, deadline = @deadline, on_time = @on_time,
				replied_late = @replied_late, evaluation = @evaluation,
				repeat_count = @repeat_count, extension_pending = @extension_pending,
				routines = @routines, involved_units = @involved_units,
				evaluation_source = @evaluation_source, call_backs = @call_backs,
				call_back_reached = @call_back_reached, assignment_status = @assignment_status,
				assignment_overdue = @assignment_overdue, joint_status = @joint_status,
				joint_criteria = @joint_criteria,
				seq = @seq, updated_at = now()
			WHERE case_no = @case_no AND seq < @seq`, pgx.NamedArgs{
			"case_no": st.CaseNo, "stage": string(st.Stage), "policy": st.Policy,
			"channel": st.Channel, "category": st.Category, "topic": st.Topic, "unit": st.Unit,
			"suggested_unit": st.SuggestedUnit, "handler": st.Handler, "leader": st.Leader,
			"review_unit": st.ReviewUnit, "re_review_unit": st.ReReviewUnit,
			"overdue": st.Overdue, "escalation_level": st.EscalationLevel,
			"received_at": nonZero(st.ReceivedAt), "registered_at": nonZero(st.RegisteredAt),
			"accepted_at": st.AcceptedAt, "replied_at": st.RepliedAt, "closed_at": st.ClosedAt,
			"due_at": dueAt, "deadline": deadline, "on_time": onTime,
			"replied_late": st.RepliedLate, "evaluation": st.Evaluation,
			"repeat_count": st.RepeatCount, "extension_pending": st.PendingExtension != nil,
			"routines": rt.json, "involved_units": rt.involved, "evaluation_source": st.EvaluationSource,
			"call_backs": len(st.CallBacks), "call_back_reached": rt.reached,
			"assignment_status": rt.assignmentStatus, "assignment_overdue": rt.assignmentOverdue,
			"joint_status": rt.jointStatus, "joint_criteria": rt.jointCriteria,
			"seq": st.Seq,
		}); err != nil {
			return fmt.Errorf("update case %s to seq %d: %w", st.CaseNo, st.Seq, err)
		}
		if reviewRequested || reReviewRequested {
			if _, err := tx.Exec(ctx, `UPDATE cases SET
					review_requested = review_requested OR $2,
					re_review_requested = re_review_requested OR $3
				WHERE case_no = $1 AND (review_requested < $2 OR re_review_requested < $3)`,
				st.CaseNo, reviewRequested, reReviewRequested); err != nil {
				return fmt.Errorf("flag review of %s: %w", st.CaseNo, err)
			}
		}
		return nil
	})
}

// nonZero maps the zero time to NULL.
func nonZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// OpenCaseNumbers returns the numbers of the cases not in a final stage, in order: the cases
// to tell when the holiday calendar changes.
func (s *Store) OpenCaseNumbers(ctx context.Context) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT case_no FROM cases WHERE stage NOT IN `+finalStagesSQL+
		` ORDER BY case_no`)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// OpenCaseNumbersAfter lists up to limit open case numbers after the given one, in order: the
// calendar broadcast pages through them.
func (s *Store) OpenCaseNumbersAfter(ctx context.Context, after string, limit int) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT case_no FROM cases WHERE stage NOT IN `+finalStagesSQL+
		` AND case_no > $1 ORDER BY case_no LIMIT $2`, after, limit)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// CasesWithoutWorkflow lists up to limit cases, oldest first, whose workflow has never reported
// (seq 0) although they were registered more than age ago: the API committed the row and then
// could not start the workflow. Personal data is not opened (the reconciler needs none).
func (s *Store) CasesWithoutWorkflow(ctx context.Context, age time.Duration, limit int) ([]Case, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+caseColumns+` FROM cases
		WHERE seq = 0 AND registered_at < now() - make_interval(secs => $1)
		ORDER BY registered_at LIMIT $2`, age.Seconds(), limit)
	return pgx.CollectRows(rows, collectCase)
}

// TryLock takes a session-level advisory lock named name if no one holds it, so that of
// several worker processes one does a periodic job; release gives it back. ok is false when
// another session holds it.
func (s *Store) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, name).Scan(&ok); err != nil || !ok {
		conn.Release()
		return nil, false, err
	}
	return func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext($1))`, name)
		conn.Release()
	}, true, nil
}
