-- A budgeted selection (curate/select): which rows of a version's training pool were picked, by
-- which strategies and weights; purpose 'train' made version version_id, 'label' a labelling queue.
CREATE SEQUENCE selection_ids START 1;
CREATE TABLE selections (
    id          INTEGER PRIMARY KEY DEFAULT nextval('selection_ids'),
    dataset_id  INTEGER NOT NULL,
    name        VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    purpose     VARCHAR NOT NULL CHECK (purpose IN ('train', 'label')),
    version_id  INTEGER,
    params      JSON NOT NULL,
    counters    JSON NOT NULL,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
-- Why each row was picked: its rank in the greedy order, the combined score and each strategy's score.
CREATE TABLE selection_rows (
    selection_id  INTEGER NOT NULL,
    example_id    BIGINT NOT NULL,
    rank          INTEGER NOT NULL,
    score         DOUBLE,
    scores        JSON,
    PRIMARY KEY (selection_id, example_id)
);
-- Random-subset comparisons (curate select --compare-random): model runs of the selection and the controls.
CREATE TABLE selection_compares (
    selection_id  INTEGER NOT NULL,
    model_run_id  INTEGER NOT NULL,
    role          VARCHAR NOT NULL CHECK (role IN ('selected', 'random')),
    version       VARCHAR NOT NULL,
    eval_set      VARCHAR,
    metric        VARCHAR,
    value         DOUBLE,
    PRIMARY KEY (selection_id, model_run_id)
);
