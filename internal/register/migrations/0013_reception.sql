-- 0013: leader reception days (领导接访日) and appointments (约访), issue 13.
--
-- The petition office publishes which leader receives petitioners on which day, where, on which
-- subjects; a clerk books a petitioner's appointment on a day, for a new matter or for an
-- existing case; when the leader receives the visit, the appointment is marked received with
-- the case it concerns: the existing case (the leader becomes its leader in charge, 包案领导) or
-- the case registered from the visit (channel visit, the leader in charge from the start). The
-- leader's reception record reads the cases' outcome from the cases table.

CREATE TABLE reception_days (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The receiving leader (a staff ID of role leader) and the unit the day is held for (the
    -- leader's unit unless the office names another).
    leader          text NOT NULL REFERENCES staff (id),
    day             date NOT NULL,
    start_time      time,
    end_time        time,
    place           text NOT NULL,
    subjects        text NOT NULL DEFAULT '',
    unit            text NOT NULL REFERENCES units (code),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    cancelled       boolean NOT NULL DEFAULT false,
    cancelled_by    text NOT NULL DEFAULT '',
    cancelled_at    timestamptz,
    cancel_reason   text NOT NULL DEFAULT '',
    -- The publishing request's Idempotency-Key: a retry answers the day it made.
    idempotency_key text UNIQUE,
    CHECK (start_time IS NULL OR end_time IS NULL OR end_time > start_time)
);
-- The schedule is read by date (public and staff), a leader's record by leader and date.
CREATE INDEX reception_days_day_idx ON reception_days (day, id);
CREATE INDEX reception_days_leader_day_idx ON reception_days (leader, day);

-- An appointment (约访). The petitioner's name and phone are personal data: sealed like the
-- petitioners' ID numbers and phones (the office's keys), with the keyed hash of the
-- normalised phone beside them for look-ups; they never reach Temporal or the logs.
CREATE TABLE reception_appointments (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reception_day    bigint NOT NULL REFERENCES reception_days (id),
    -- The existing case the appointment is about (NULL: a new matter).
    case_no          text REFERENCES cases (case_no),
    petitioner_name  text NOT NULL,
    petitioner_phone text NOT NULL,
    phone_hash       text NOT NULL DEFAULT '',
    subject          text NOT NULL,
    status           text NOT NULL DEFAULT 'booked'
                     CHECK (status IN ('booked', 'received', 'no_show', 'cancelled')),
    -- The visit: when, the case registered or linked at reception and how (registered: a new
    -- case; repeat: a repeat petition of an open case; leader_assigned: the appointment's own
    -- case), who recorded the visit or the no-show, and the note of what was said and decided
    -- (接访情况).
    received_at      timestamptz,
    recorded_by      text NOT NULL DEFAULT '',
    received_case_no text REFERENCES cases (case_no),
    received_as      text NOT NULL DEFAULT '',
    outcome          text NOT NULL DEFAULT '',
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- The booking request's Idempotency-Key: a retry answers the appointment it made.
    idempotency_key  text NOT NULL UNIQUE
);
CREATE INDEX reception_appointments_day_idx ON reception_appointments (reception_day, id);
CREATE INDEX reception_appointments_case_idx ON reception_appointments (received_case_no)
    WHERE received_case_no IS NOT NULL;
CREATE INDEX reception_appointments_phone_hash_idx ON reception_appointments (phone_hash)
    WHERE phone_hash <> '';
