-- Back-entry of running cases (补录): the case's number in the office's earlier system. It is
-- the import's idempotency key: importing the same reference again answers the case it made,
-- never a second one. Cases registered here have none (NULL, which UNIQUE lets repeat).
ALTER TABLE cases ADD COLUMN external_ref text UNIQUE;
