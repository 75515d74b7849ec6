-- An immutable, named snapshot of a dataset (see curate/versions). params: exclude, label rule,
-- split ratios, seed, group column, near-dup settings; source_runs: the recipe/dedup/suspects
-- runs whose issues were applied; counters: total, kept, dropped_<reason>, per split and label.
CREATE SEQUENCE version_ids START 1;
CREATE TABLE versions (
    id           INTEGER PRIMARY KEY DEFAULT nextval('version_ids'),
    dataset_id   INTEGER NOT NULL,
    name         VARCHAR NOT NULL,
    parent_id    INTEGER,
    note         VARCHAR,
    task         VARCHAR NOT NULL,
    params       JSON NOT NULL,
    source_runs  JSON NOT NULL,
    counters     JSON NOT NULL,
    n_rows       BIGINT NOT NULL,
    created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    UNIQUE (dataset_id, name)
);
-- The rows of a version as they were: fields, final label and split; never updated.
-- label_source: how the label was decided; edits: field -> author of the edit in force;
-- dup: {cluster, role, decision} from the dedup run applied; grp: the split group.
CREATE TABLE version_rows (
    version_id    INTEGER NOT NULL,
    example_id    BIGINT NOT NULL,
    split         VARCHAR NOT NULL CHECK (split IN ('train', 'validation', 'test')),
    grp           BIGINT NOT NULL,
    text          VARCHAR,
    label         VARCHAR,
    instruction   VARCHAR,
    input         VARCHAR,
    response      VARCHAR,
    messages      VARCHAR,
    label_source  VARCHAR,
    edits         JSON,
    dup           JSON,
    PRIMARY KEY (version_id, example_id)
);
-- Examples of the dataset left out of a version, with the first reason: 'issue:<kind>',
-- 'dup_decision:<action>', 'unlabelled' or 'decontaminated' (detail names the eval item).
CREATE TABLE version_dropped (
    version_id  INTEGER NOT NULL,
    example_id  BIGINT NOT NULL,
    reason      VARCHAR NOT NULL,
    detail      VARCHAR,
    PRIMARY KEY (version_id, example_id)
);
-- A pinned split of a version (split 'all': every row) used to score models.
CREATE SEQUENCE eval_set_ids START 1;
CREATE TABLE eval_sets (
    id          INTEGER PRIMARY KEY DEFAULT nextval('eval_set_ids'),
    name        VARCHAR NOT NULL UNIQUE,
    version_id  INTEGER NOT NULL,
    split       VARCHAR NOT NULL CHECK (split IN ('train', 'validation', 'test', 'all')),
    n_rows      BIGINT NOT NULL,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
-- Every export written, with the version it came from.
CREATE SEQUENCE export_ids START 1;
CREATE TABLE exports (
    id          INTEGER PRIMARY KEY DEFAULT nextval('export_ids'),
    version_id  INTEGER NOT NULL,
    format      VARCHAR NOT NULL,
    path        VARCHAR NOT NULL,
    n_rows      BIGINT NOT NULL,
    bytes       BIGINT,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
