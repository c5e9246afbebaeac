-- 0007: a unit leader's queue of extension requests to decide (延期审批). The workflow's state
-- has the pending request; the projection copies whether there is one, so the queue is a list
-- filter like the others. Few cases wait for a decision at a time: a small partial index in
-- list order. Cases projected before this migration show false until their next transition.
ALTER TABLE cases ADD COLUMN extension_pending boolean NOT NULL DEFAULT false;
CREATE INDEX cases_extension_pending_due_key_idx ON cases ((COALESCE(due_at, 'infinity'::timestamptz)), case_no)
    WHERE extension_pending;
