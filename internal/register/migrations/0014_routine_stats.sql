-- 0014: the statistics of the bureau's routines (issue 13), by period like the other figures.
-- The workflow's proposals for joint investigation (联查) ride on any event's details
-- (joint_proposed): the cases proposed in a period are a range over this small partial index,
-- not a walk through every event of the period.
CREATE INDEX case_events_joint_proposed_at_idx ON case_events (at) WHERE details ? 'joint_proposed';
-- Repeat submissions (重复信访) received in a period.
CREATE INDEX repeat_submissions_received_at_idx ON repeat_submissions (received_at);
