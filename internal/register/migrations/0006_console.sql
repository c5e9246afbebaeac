-- 0006: the staff console's queues and searches. Each queue is one person's cases in list
-- order (due key, case_no), so its first page, and every page after it (keyset), is a seek
-- into an index that already holds that order: a handler's cases (承办人), a leader in
-- charge's (包案领导), a first-contact clerk's (首问负责制, registered_by). The expression is
-- written exactly as in 0001 and in register.sortKey, or the planner would not use it.
CREATE INDEX cases_handler_due_key_idx ON cases (handler, (COALESCE(due_at, 'infinity'::timestamptz)), case_no);
CREATE INDEX cases_leader_due_key_idx ON cases (leader, (COALESCE(due_at, 'infinity'::timestamptz)), case_no);
CREATE INDEX cases_registered_by_due_key_idx ON cases (registered_by, (COALESCE(due_at, 'infinity'::timestamptz)), case_no);

-- The search by person (GET /petitions?q=) matches a petitioner's name exactly, besides the
-- keyed hashes of ID numbers and phones (indexed in 0004). Names stay plain, so an index on
-- them is an equality lookup like the others.
CREATE INDEX petitioners_name_idx ON petitioners (name);
