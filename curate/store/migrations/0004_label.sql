-- What annotators are asked about a dataset's examples (see curate/label/questions.py).
CREATE SEQUENCE question_ids START 1;
CREATE TABLE questions (
    id          INTEGER PRIMARY KEY DEFAULT nextval('question_ids'),
    dataset_id  INTEGER NOT NULL,
    name        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL CHECK (kind IN ('label', 'labels', 'rating', 'text', 'response')),
    options     JSON,                        -- classes of label/labels questions
    overlap     INTEGER NOT NULL DEFAULT 1,  -- answers wanted per example, from different annotators
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    UNIQUE (dataset_id, name)
);
-- People who label; only a sha256 of their sign-in token is kept.
CREATE SEQUENCE annotator_ids START 1;
CREATE TABLE annotators (
    id          INTEGER PRIMARY KEY DEFAULT nextval('annotator_ids'),
    name        VARCHAR NOT NULL UNIQUE,
    token_hash  VARCHAR NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
-- Append-only answers: the latest (highest id) per (example, annotator, question) is current.
-- value: the class, "3" for ratings, the text, or a JSON array of classes for multi-label.
CREATE SEQUENCE annotation_ids START 1;
CREATE TABLE annotations (
    id           BIGINT PRIMARY KEY DEFAULT nextval('annotation_ids'),
    example_id   BIGINT NOT NULL,
    dataset_id   INTEGER NOT NULL,
    question_id  INTEGER NOT NULL,
    annotator    VARCHAR NOT NULL,
    value        VARCHAR,
    origin       VARCHAR NOT NULL DEFAULT 'ui',  -- ui | cli | import | prelabel | suspects | demo
    run_id       INTEGER,
    created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
);
-- Model suggestions of one pre-label run (classifier on frozen embeddings).
CREATE TABLE prelabels (
    run_id       INTEGER NOT NULL,
    question_id  INTEGER NOT NULL,
    example_id   BIGINT NOT NULL,
    label        VARCHAR NOT NULL,
    confidence   DOUBLE NOT NULL,   -- probability of the suggested class
    margin       DOUBLE NOT NULL    -- top-1 minus top-2 probability: small = uncertain
);
-- The suggested label behind each label_suspect issue of a run.
CREATE TABLE suspect_labels (
    run_id       INTEGER NOT NULL,
    example_id   BIGINT NOT NULL,
    given        VARCHAR,
    suggested    VARCHAR NOT NULL
);
