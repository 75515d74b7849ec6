-- One duplicate cluster of one dedup run (the run's params and counters are in `runs`).
-- status: 'dup' (non-canonical members flagged), 'keep_all' (nobody flagged), 'split'
-- (dissolved by a decision). decision_id is the decision re-applied to it, if any.
CREATE TABLE dup_clusters (
    run_id        INTEGER NOT NULL,
    cluster_id    INTEGER NOT NULL,
    dataset_id    INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    canonical_id  BIGINT,
    status        VARCHAR NOT NULL CHECK (status IN ('dup', 'keep_all', 'split')),
    decision_id   BIGINT,
    PRIMARY KEY (run_id, cluster_id)
);
-- Members of a cluster; role: 'canonical', 'dup', 'kept' (keep all) or 'split' (split out).
-- similarity: to the canonical row (Jaccard for exact/minhash, cosine for semantic).
CREATE TABLE dup_members (
    run_id      INTEGER NOT NULL,
    cluster_id  INTEGER NOT NULL,
    example_id  BIGINT NOT NULL,
    role        VARCHAR NOT NULL,
    similarity  DOUBLE,
    PRIMARY KEY (run_id, example_id)
);
-- A person's decision on a cluster, kept across runs and re-applied to the cluster of a later
-- run that shares the most members with it. action: 'canonical', 'keep_all' or 'split'.
CREATE SEQUENCE dup_decision_ids START 1;
CREATE TABLE dup_decisions (
    id            BIGINT PRIMARY KEY DEFAULT nextval('dup_decision_ids'),
    dataset_id    INTEGER NOT NULL,
    run_id        INTEGER,
    action        VARCHAR NOT NULL CHECK (action IN ('canonical', 'keep_all', 'split')),
    canonical_id  BIGINT,
    members       BIGINT[] NOT NULL,
    split_out     BIGINT[],
    author        VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);
