-- 0001: the case register (台账). Every text column that a Go string maps to is NOT NULL
-- DEFAULT '' so that scanning never needs a NULL dance; columns that carry meaning in NULL
-- (foreign keys, timestamps not yet reached, on_time before closure) stay nullable.

-- Units form a tree: parent is the next-higher agency, which reviews (复查) the unit's
-- decisions; the parent's parent re-reviews (复核). Head and leader are staff IDs without a
-- foreign key because staff reference units: the cycle would make seeding order-dependent.
CREATE TABLE units (
    code   text PRIMARY KEY,
    name   text NOT NULL,
    parent text REFERENCES units (code) DEFERRABLE INITIALLY DEFERRED,
    head   text NOT NULL DEFAULT '',
    leader text NOT NULL DEFAULT '',
    email  text NOT NULL DEFAULT ''
);

CREATE TABLE staff (
    id    text PRIMARY KEY,
    name  text NOT NULL,
    role  text NOT NULL CHECK (role IN ('clerk', 'handler', 'leader', 'supervisor', 'reviewer')),
    unit  text NOT NULL REFERENCES units (code),
    phone text NOT NULL DEFAULT ''
);
CREATE INDEX staff_unit_idx ON staff (unit);

-- Routing rules 谁主管谁负责: a keyword in the topic (and optionally a category) points at the
-- responsible unit. (keyword, category) is unique with NULLs equal so seeding can upsert.
CREATE TABLE routing_rules (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    keyword  text NOT NULL CHECK (keyword <> ''),
    category text,
    unit     text NOT NULL REFERENCES units (code),
    priority integer NOT NULL DEFAULT 0,
    CONSTRAINT routing_rules_keyword_category_key UNIQUE NULLS NOT DISTINCT (keyword, category)
);

-- One counter row per year. Allocation is an upsert that row-locks the year's counter until
-- the registering transaction ends, so numbers are unique and gapless (a rolled-back
-- registration gives its number back), as a paper ledger expects.
CREATE TABLE case_numbers (
    year integer PRIMARY KEY,
    last bigint  NOT NULL
);

CREATE TABLE cases (
    case_no             text PRIMARY KEY,
    query_code          text NOT NULL DEFAULT '',
    channel             text NOT NULL DEFAULT '',
    category            text NOT NULL DEFAULT '',
    topic               text NOT NULL DEFAULT '',
    content             text NOT NULL DEFAULT '',
    location            text NOT NULL DEFAULT '',
    group_size          integer NOT NULL DEFAULT 0,
    policy              text NOT NULL DEFAULT '',
    -- Unit codes carry no foreign key: the register is a projection of the workflows and must
    -- accept whatever a running case reports rather than fail its activity forever.
    suggested_unit      text NOT NULL DEFAULT '',
    unit                text NOT NULL DEFAULT '',
    handler             text NOT NULL DEFAULT '',
    leader              text NOT NULL DEFAULT '',
    review_unit         text NOT NULL DEFAULT '',
    re_review_unit      text NOT NULL DEFAULT '',
    stage               text NOT NULL DEFAULT 'registered',
    overdue             boolean NOT NULL DEFAULT false,
    escalation_level    integer NOT NULL DEFAULT 0,
    registered_by       text NOT NULL DEFAULT '',
    received_at         timestamptz NOT NULL,
    registered_at       timestamptz NOT NULL,
    accepted_at         timestamptz,
    due_at              timestamptz,
    replied_at          timestamptz,
    closed_at           timestamptz,
    on_time             boolean,
    replied_late        boolean NOT NULL DEFAULT false,
    evaluation          text NOT NULL DEFAULT '',
    repeat_count        integer NOT NULL DEFAULT 0,
    seq                 bigint NOT NULL DEFAULT 0,
    deadline            jsonb,
    attachments         jsonb NOT NULL DEFAULT '[]',
    updated_at          timestamptz NOT NULL DEFAULT now(),
    idempotency_key     text UNIQUE,
    review_requested    boolean NOT NULL DEFAULT false,
    re_review_requested boolean NOT NULL DEFAULT false,
    -- The unit a case counts for in statistics: the handling unit once accepted, the routed
    -- unit before (so a unit's "received" includes cases still waiting for acceptance).
    ledger_unit         text GENERATED ALWAYS AS (COALESCE(NULLIF(unit, ''), suggested_unit)) STORED,
    -- Repeat detection compares topics case-insensitively and trimmed.
    topic_key           text GENERATED ALWAYS AS (lower(btrim(topic))) STORED
);

-- List order is (due_at NULLS LAST, case_no). The key is written as COALESCE(due_at,
-- 'infinity') so keyset pagination is a single row comparison the btree can seek to; NULLs
-- (no running clock) sort last exactly as NULLS LAST would.
CREATE INDEX cases_due_key_idx ON cases ((COALESCE(due_at, 'infinity'::timestamptz)), case_no);
CREATE INDEX cases_stage_due_key_idx ON cases (stage, (COALESCE(due_at, 'infinity'::timestamptz)), case_no);
CREATE INDEX cases_unit_due_key_idx ON cases (unit, (COALESCE(due_at, 'infinity'::timestamptz)), case_no);
-- Overdue cases are few and looked at all day: a small partial index.
CREATE INDEX cases_overdue_due_key_idx ON cases ((COALESCE(due_at, 'infinity'::timestamptz)), case_no)
    WHERE overdue;
CREATE INDEX cases_escalated_idx ON cases (escalation_level, (COALESCE(due_at, 'infinity'::timestamptz)), case_no)
    WHERE escalation_level > 0;
-- Statistics and the monthly ledger select by period.
CREATE INDEX cases_registered_at_idx ON cases (registered_at);
CREATE INDEX cases_accepted_at_idx ON cases (accepted_at) WHERE accepted_at IS NOT NULL;
CREATE INDEX cases_replied_at_idx ON cases (replied_at) WHERE replied_at IS NOT NULL;
CREATE INDEX cases_closed_at_idx ON cases (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX cases_topic_key_idx ON cases (topic_key);
-- Open cases, for broadcasting calendar changes.
CREATE INDEX cases_open_idx ON cases (case_no)
    WHERE stage NOT IN ('closed', 'terminated', 'rejected', 'withdrawn');

-- Petitioners: personal data, kept only here (never in Temporal histories). ID numbers are
-- stored trimmed and upper-cased (a final 'x' checksum digit), phones trimmed, so repeat
-- detection can use plain equality on these indexes.
CREATE TABLE petitioners (
    case_no   text NOT NULL REFERENCES cases (case_no) ON DELETE CASCADE,
    position  integer NOT NULL,
    name      text NOT NULL DEFAULT '',
    id_number text NOT NULL DEFAULT '',
    phone     text NOT NULL DEFAULT '',
    address   text NOT NULL DEFAULT '',
    PRIMARY KEY (case_no, position)
);
CREATE INDEX petitioners_id_number_idx ON petitioners (id_number) WHERE id_number <> '';
CREATE INDEX petitioners_phone_idx ON petitioners (phone) WHERE phone <> '';

-- The audit trail 痕迹. (case_no, seq) is the idempotency key: a retried activity inserts
-- nothing twice, and a late one still lands in its place.
CREATE TABLE case_events (
    case_no    text NOT NULL REFERENCES cases (case_no) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    type       text NOT NULL,
    at         timestamptz NOT NULL,
    actor_id   text NOT NULL DEFAULT '',
    actor_name text NOT NULL DEFAULT '',
    actor_role text NOT NULL DEFAULT '',
    actor_unit text NOT NULL DEFAULT '',
    details    jsonb,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_no, seq)
);
CREATE INDEX case_events_type_at_idx ON case_events (type, at);

-- Holiday arrangements as the State Council announces them, one year at a time.
CREATE TABLE calendar_years (
    year       integer PRIMARY KEY,
    source     text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE calendar_days (
    date date PRIMARY KEY,
    year integer NOT NULL REFERENCES calendar_years (year) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name text NOT NULL DEFAULT '',
    CHECK (extract(year FROM date) = year)
);
CREATE INDEX calendar_days_year_idx ON calendar_days (year);
