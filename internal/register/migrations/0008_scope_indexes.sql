-- 0008: reads are scoped (api/authz.go): a unit's staff see the cases of their unit (or tree),
-- reviewers those under review by theirs. Queues of a scope — a leader's cases in handling, a
-- reviewer's reviews to decide — are then a seek on the unit with the stage, in list order,
-- and their counts index-only scans, not a walk through every open case of the register.
CREATE INDEX cases_ledger_stage_due_key_idx ON cases (ledger_unit, stage, (COALESCE(due_at, 'infinity'::timestamptz)), case_no);
CREATE INDEX cases_review_unit_stage_idx ON cases (review_unit, stage) WHERE review_unit <> '';
CREATE INDEX cases_re_review_unit_stage_idx ON cases (re_review_unit, stage) WHERE re_review_unit <> '';
-- A clerk's registrations of the day (首问负责制): the clerk with the registration window.
CREATE INDEX cases_registered_by_at_idx ON cases (registered_by, registered_at);
