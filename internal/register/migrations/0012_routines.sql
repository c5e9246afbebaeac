-- 0012: the bureau's routines on a case (issue 13), projected from the case's state:
--   assignment 交办 with a result report, call-backs 回访, co-handling units 成员单位 and joint
--   investigation 联查. The whole of them is kept as JSON (routines) for a case read after the
--   workflow ended; the columns the lists, scopes and statistics need are kept on their own.
ALTER TABLE cases
    ADD COLUMN routines          jsonb,
    -- Co-handling units and the joint investigation team: their staff see the case.
    ADD COLUMN involved_units    text[] NOT NULL DEFAULT '{}',
    ADD COLUMN evaluation_source text   NOT NULL DEFAULT '',
    ADD COLUMN call_backs        int    NOT NULL DEFAULT 0,
    ADD COLUMN call_back_reached boolean NOT NULL DEFAULT false,
    ADD COLUMN assignment_status text   NOT NULL DEFAULT '',
    ADD COLUMN assignment_overdue boolean NOT NULL DEFAULT false,
    ADD COLUMN joint_status      text   NOT NULL DEFAULT '',
    ADD COLUMN joint_criteria    text[] NOT NULL DEFAULT '{}';

-- A unit's staff find the cases they co-handle or investigate jointly (the scope's third arm).
CREATE INDEX cases_involved_units_idx ON cases USING gin (involved_units);
-- The supervisors' queues: cases proposed for joint investigation, result reports to review.
CREATE INDEX cases_joint_status_idx ON cases (joint_status, due_at, case_no) WHERE joint_status <> '';
CREATE INDEX cases_assignment_status_idx ON cases (assignment_status, due_at, case_no) WHERE assignment_status <> '';
