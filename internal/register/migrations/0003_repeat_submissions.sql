-- Repeat petitions (重复信访) are linked to the open case they repeat instead of becoming cases
-- of their own; each submission is kept here so the case's trail (痕迹) has what was said, by
-- whom and through which channel, every time.
CREATE TABLE repeat_submissions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_no         text NOT NULL REFERENCES cases (case_no),
    channel         text NOT NULL,
    content         text NOT NULL DEFAULT '',
    location        text NOT NULL DEFAULT '',
    petitioners     jsonb NOT NULL DEFAULT '[]',
    attachments     jsonb NOT NULL DEFAULT '[]',
    received_at     timestamptz NOT NULL,
    registered_at   timestamptz NOT NULL,
    registered_by   text NOT NULL DEFAULT '',
    -- A retried submission (same Idempotency-Key) is stored once.
    idempotency_key text UNIQUE
);
CREATE INDEX repeat_submissions_case_idx ON repeat_submissions (case_no, received_at);
