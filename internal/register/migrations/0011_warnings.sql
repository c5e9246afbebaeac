-- 0011: early warning (预警). A registration records the administrative level the petition was
-- lodged at (lodged_level: township, district, city, province or national; '' unknown), so a
-- skip-level petition (越级访) is recognised against the competent unit's level.
ALTER TABLE cases ADD COLUMN lodged_level text NOT NULL DEFAULT '';

-- The level of the directory's governments. A unit stands at the level of the nearest unit up
-- its chain (itself first) listed here: a district bureau at its district's. The demo
-- directory's governments are listed; an office lists its own (INSERT INTO unit_levels).
-- No foreign key: levels may be listed before the units exist (migrations run before seeding).
CREATE TABLE unit_levels (
    code  text PRIMARY KEY,
    level text NOT NULL CHECK (level IN ('township', 'district', 'city', 'province', 'national'))
);
INSERT INTO unit_levels (code, level)
VALUES ('district', 'district'), ('city', 'city'), ('province', 'province')
ON CONFLICT (code) DO NOTHING;

-- Warnings raised on cases, projected from their warning_raised events: one row per case and
-- rule (each rule raises its warning once per case), so a projection retried or handed over
-- again inserts nothing twice. Reasons carry no personal data.
CREATE TABLE warnings (
    case_no   text NOT NULL REFERENCES cases (case_no) ON DELETE CASCADE,
    rule      text NOT NULL,
    reason    text NOT NULL DEFAULT '',
    seq       bigint NOT NULL,
    raised_at timestamptz NOT NULL,
    PRIMARY KEY (case_no, rule)
);
-- The list filter (?warning=group) and the statistics by period.
CREATE INDEX warnings_rule_idx ON warnings (rule, case_no);
CREATE INDEX warnings_raised_at_idx ON warnings (raised_at);
