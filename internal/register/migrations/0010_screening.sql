-- Monthly dispute screening (矛盾纠纷排查, seed 002): the rounds, each unit's report, the
-- report's events and the lines of the forms, projected by the ScreeningRound workflow
-- (activities.RecordScreening). Each write is idempotent by (month, unit, seq): a retried or
-- late delivery never moves a report backwards nor records an event twice. Unit '' holds the
-- round's own events (opened, closed).
CREATE TABLE screening_rounds (
	month      text PRIMARY KEY CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
	policy     text NOT NULL,
	opened_at  timestamptz NOT NULL,
	due_at     timestamptz NOT NULL,
	closes_at  timestamptz NOT NULL,
	closed_at  timestamptz,
	seq        bigint NOT NULL DEFAULT 0
);

CREATE TABLE screening_reports (
	month            text NOT NULL REFERENCES screening_rounds (month),
	unit             text NOT NULL,
	status           text NOT NULL,
	filed_at         timestamptz,
	filed_by         text NOT NULL DEFAULT '',
	filed_by_name    text NOT NULL DEFAULT '',
	late             boolean NOT NULL DEFAULT false,
	overdue          boolean NOT NULL DEFAULT false,
	escalation_level integer NOT NULL DEFAULT 0,
	disputes         integer NOT NULL DEFAULT 0,
	note             text NOT NULL DEFAULT '',
	seq              bigint NOT NULL,
	updated_at       timestamptz NOT NULL,
	PRIMARY KEY (month, unit)
);

CREATE TABLE screening_events (
	month   text NOT NULL REFERENCES screening_rounds (month),
	unit    text NOT NULL,
	seq     bigint NOT NULL,
	type    text NOT NULL,
	at      timestamptz NOT NULL,
	actor   jsonb NOT NULL,
	details jsonb,
	PRIMARY KEY (month, unit, seq)
);

-- One line of a filed form. item is its position in the form; case_no is set when the
-- petition office turns it into a case (POST /api/v1/screening/disputes/{id}/case).
CREATE TABLE screening_disputes (
	id         bigserial PRIMARY KEY,
	month      text NOT NULL REFERENCES screening_rounds (month),
	unit       text NOT NULL,
	item       integer NOT NULL,
	kind       text NOT NULL,
	summary    text NOT NULL,
	leader     text NOT NULL,
	plan       text NOT NULL,
	time_limit date NOT NULL,
	case_no    text REFERENCES cases (case_no),
	linked_by  text NOT NULL DEFAULT '',
	linked_at  timestamptz,
	UNIQUE (month, unit, item)
);
CREATE INDEX screening_disputes_case ON screening_disputes (case_no) WHERE case_no IS NOT NULL;
