-- 0004: sign-in and tokens, the admin role, audited administration, records of who read whose
-- personal data (查阅记录), the office's policy allow-list, and sealed identity numbers.

-- The admin role manages staff, tokens, units, routing rules, calendars and policies; it reads
-- no case content. Credentials live beside the directory entry they open.
ALTER TABLE staff DROP CONSTRAINT IF EXISTS staff_role_check;
ALTER TABLE staff ADD CONSTRAINT staff_role_check
    CHECK (role IN ('clerk', 'handler', 'leader', 'supervisor', 'reviewer', 'admin'));
ALTER TABLE staff
    -- argon2id in PHC string form; '' means the account cannot sign in with a password
    -- (a new account, or one that signs in only through the office's identity provider).
    ADD COLUMN password_hash       text NOT NULL DEFAULT '',
    ADD COLUMN password_changed_at timestamptz,
    -- A disabled account keeps its history (events name it) but cannot sign in, and every
    -- token it holds stops working.
    ADD COLUMN disabled            boolean NOT NULL DEFAULT false,
    -- Back-off and lock-out: failures since the last successful sign-in, and until when the
    -- account refuses even a correct password.
    ADD COLUMN failed_sign_ins     integer NOT NULL DEFAULT 0,
    ADD COLUMN locked_until        timestamptz;

-- Every bearer credential: short-lived access tokens and their refresh tokens (one family per
-- sign-in, so signing out revokes both), and long-lived API tokens for integrations. Only the
-- SHA-256 of a secret is stored; the secret is shown once.
CREATE TABLE auth_tokens (
    id           text PRIMARY KEY,           -- public handle: listed, revoked by it
    secret_hash  bytea NOT NULL UNIQUE,
    kind         text NOT NULL CHECK (kind IN ('access', 'refresh', 'api')),
    staff_id     text NOT NULL REFERENCES staff (id),
    -- The role the token acts in: the staff member's role at issue; an API token may be
    -- scoped to it explicitly.
    role         text NOT NULL,
    name         text NOT NULL DEFAULT '',   -- API tokens: what the integration is
    family       text NOT NULL DEFAULT '',   -- one sign-in's access and refresh tokens
    via          text NOT NULL DEFAULT '',   -- password, oidc, api_token
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX auth_tokens_staff_idx ON auth_tokens (staff_id) WHERE revoked_at IS NULL;
CREATE INDEX auth_tokens_family_idx ON auth_tokens (family) WHERE family <> '';

-- Administration is audited: who changed which unit, account, token, routing rule, calendar or
-- policy, when, and how. Also the reissue of a petitioner's query code.
CREATE TABLE admin_audit (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor_id text NOT NULL,
    action   text NOT NULL,
    target   text NOT NULL DEFAULT '',
    details  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX admin_audit_at_idx ON admin_audit (at);

-- 查阅记录: every read of a case's personal data (the petitioners' identities), by whom and when.
CREATE TABLE personal_data_reads (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    staff_id text NOT NULL,
    case_no  text NOT NULL,
    purpose  text NOT NULL DEFAULT ''
);
CREATE INDEX personal_data_reads_case_idx ON personal_data_reads (case_no, at);
CREATE INDEX personal_data_reads_staff_idx ON personal_data_reads (staff_id, at);

-- The policies registration may use in this office. The seconds-scale demo policy is further
-- refused outside development mode, whatever this list says.
CREATE TABLE office_policies (
    name       text PRIMARY KEY,
    allowed    boolean NOT NULL DEFAULT true,
    changed_by text NOT NULL DEFAULT '',
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO office_policies (name) VALUES ('default'), ('statute'), ('statute_workdays');

-- Routing rules can be switched off without losing them (and their history in the audit).
ALTER TABLE routing_rules ADD COLUMN disabled boolean NOT NULL DEFAULT false;

-- Identity numbers and phones are stored sealed (AES-256-GCM, key ID inside the value); repeat
-- detection compares their keyed hashes (HMAC-SHA-256 of the normalised value). The query code
-- is sealed too. Rows written before this migration are sealed by `petitiond migrate`
-- (register.SealPlaintext), which needs the keys and so cannot run in SQL.
ALTER TABLE petitioners
    ADD COLUMN id_number_hash text NOT NULL DEFAULT '',
    ADD COLUMN phone_hash     text NOT NULL DEFAULT '';
DROP INDEX IF EXISTS petitioners_id_number_idx;
DROP INDEX IF EXISTS petitioners_phone_idx;
CREATE INDEX petitioners_id_number_hash_idx ON petitioners (id_number_hash) WHERE id_number_hash <> '';
CREATE INDEX petitioners_phone_hash_idx ON petitioners (phone_hash) WHERE phone_hash <> '';
