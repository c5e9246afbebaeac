-- Cases whose workflow has never reported (seq 0: the API committed the row, then could not
-- start the workflow). The worker's reconciler looks for them every half minute; the index
-- keeps that cheap, holding only such rows (normally none).
CREATE INDEX cases_without_workflow ON cases (registered_at) WHERE seq = 0;
