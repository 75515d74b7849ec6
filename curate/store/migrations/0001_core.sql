CREATE SEQUENCE dataset_ids START 1;
CREATE TABLE datasets (
    id          INTEGER PRIMARY KEY DEFAULT nextval('dataset_ids'),
    name        VARCHAR NOT NULL UNIQUE,
    task        VARCHAR NOT NULL CHECK (task IN ('classification', 'sft', 'chat')),
    label_type  VARCHAR CHECK (label_type IN ('int', 'str')),
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE SEQUENCE run_ids START 1;
CREATE TABLE runs (
    id           INTEGER PRIMARY KEY DEFAULT nextval('run_ids'),
    kind         VARCHAR NOT NULL,
    dataset_id   INTEGER,
    params       JSON,
    counters     JSON,
    libraries    JSON,
    status       VARCHAR NOT NULL,
    message      VARCHAR,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP
);
CREATE SEQUENCE source_ids START 1;
CREATE TABLE sources (
    id           INTEGER PRIMARY KEY DEFAULT nextval('source_ids'),
    dataset_id   INTEGER NOT NULL,
    uri          VARCHAR NOT NULL,
    format       VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    n_rows       BIGINT NOT NULL,
    mapping      JSON NOT NULL,
    run_id       INTEGER,
    ingested_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    UNIQUE (dataset_id, sha256)
);
-- One row per ingested record. Never updated or deleted: edits, labels and issues live in
-- side tables joined at read time. `raw` is the source record as ingested (JSON text).
CREATE TABLE examples (
    id            BIGINT NOT NULL,
    dataset_id    INTEGER NOT NULL,
    source_id     INTEGER NOT NULL,
    row_num       BIGINT NOT NULL,
    split         VARCHAR,
    raw           VARCHAR NOT NULL,
    text          VARCHAR,
    label         VARCHAR,
    instruction   VARCHAR,
    input         VARCHAR,
    response      VARCHAR,
    messages      VARCHAR,
    content_hash  VARCHAR NOT NULL
);
-- Side tables shared by the stages. Nothing here changes an example: the current value of a
-- field is its latest edit (highest id), else the raw field.
CREATE SEQUENCE edit_ids START 1;
CREATE TABLE edits (
    id          BIGINT PRIMARY KEY DEFAULT nextval('edit_ids'),
    example_id  BIGINT NOT NULL,
    field       VARCHAR NOT NULL,
    value       VARCHAR,
    author      VARCHAR NOT NULL,   -- 'op:<operator>' or 'human:<annotator>'
    run_id      INTEGER,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
-- One number per example per run, in [0, 1] where 1 means good.
CREATE TABLE signals (
    run_id      INTEGER NOT NULL,
    example_id  BIGINT NOT NULL,
    name        VARCHAR NOT NULL,
    value       DOUBLE
);
-- Flags that exclude an example from a version (is_dup, lang_mismatch, too_short, label_suspect);
-- the current issues of a kind in a dataset are those of the latest run that produced that kind.
CREATE TABLE issues (
    run_id      INTEGER NOT NULL,
    example_id  BIGINT NOT NULL,
    kind        VARCHAR NOT NULL,
    reason      VARCHAR,
    score       DOUBLE,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
-- Embedding cache shared by every stage (see curate/embed.py).
CREATE TABLE embeddings (
    model     VARCHAR NOT NULL,
    text_key  VARCHAR NOT NULL,
    vector    FLOAT[] NOT NULL,
    PRIMARY KEY (model, text_key)
);
-- The label set of a dataset (classes seen at ingest or declared later).
CREATE TABLE labels (
    dataset_id  INTEGER NOT NULL,
    label       VARCHAR NOT NULL,
    PRIMARY KEY (dataset_id, label)
);
