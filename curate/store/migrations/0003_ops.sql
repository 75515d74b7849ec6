-- Examples a person marked good or bad, the training data of the quality classifier
-- (score.quality_model). Append-only: the latest mark (highest id) per example is current;
-- mark NULL clears it.
CREATE SEQUENCE quality_mark_ids START 1;
CREATE TABLE quality_marks (
    id          BIGINT PRIMARY KEY DEFAULT nextval('quality_mark_ids'),
    dataset_id  INTEGER NOT NULL,
    example_id  BIGINT NOT NULL,
    mark        VARCHAR CHECK (mark IN ('good', 'bad')),
    author      VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
