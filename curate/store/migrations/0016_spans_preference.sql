-- Tasks ``spans`` (text + character-offset spans) and ``preference`` (prompt + chosen/rejected
-- responses), and their question kinds. DuckDB cannot alter a CHECK constraint, so the two tables
-- holding one are rebuilt with their rows and ids (no other table references them by constraint).
CREATE TABLE datasets_0016 (
    id          INTEGER PRIMARY KEY DEFAULT nextval('dataset_ids'),
    name        VARCHAR NOT NULL UNIQUE,
    task        VARCHAR NOT NULL CHECK (task IN ('classification', 'sft', 'chat', 'spans', 'preference')),
    label_type  VARCHAR CHECK (label_type IN ('int', 'str')),
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO datasets_0016 SELECT id, name, task, label_type, created_at FROM datasets;
DROP TABLE datasets;
ALTER TABLE datasets_0016 RENAME TO datasets;
CREATE TABLE questions_0016 (
    id          INTEGER PRIMARY KEY DEFAULT nextval('question_ids'),
    dataset_id  INTEGER NOT NULL,
    name        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL CHECK (kind IN ('label', 'labels', 'rating', 'text', 'response',
                                                 'spans', 'preference')),
    options     JSON,
    overlap     INTEGER NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    UNIQUE (dataset_id, name)
);
INSERT INTO questions_0016 SELECT id, dataset_id, name, kind, options, overlap, created_at FROM questions;
DROP TABLE questions;
ALTER TABLE questions_0016 RENAME TO questions;
-- spans: JSON [{start, end, label}] over `text`, sorted by start; chosen/rejected: JSON lists of
-- {role, content} turns answering the prompt held in `messages`.
ALTER TABLE examples ADD COLUMN spans VARCHAR;
ALTER TABLE examples ADD COLUMN chosen VARCHAR;
ALTER TABLE examples ADD COLUMN rejected VARCHAR;
ALTER TABLE version_rows ADD COLUMN spans VARCHAR;
ALTER TABLE version_rows ADD COLUMN chosen VARCHAR;
ALTER TABLE version_rows ADD COLUMN rejected VARCHAR;
