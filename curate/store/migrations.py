"""Named, ordered schema migrations, each applied in one transaction with its record.

Modelled on sqlite-utils' migrations: a migration that fails leaves the store as it was. Later
stages (dedup, labels, versions, training) append their own migrations to ``MIGRATIONS``; never edit
one that has shipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from curate.errors import MigrationError


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str


MIGRATIONS: list[Migration] = [
    Migration("0001_core", """
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
    """),
    Migration("0004_label", """
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
    """),
    Migration("0002_dedup", """
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
    """),
    Migration("0003_ops", """
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
    """),
    Migration("0006_train", """
        -- A model run: one training (fine-tune or quick baseline) on one version. Its id is the id of
        -- its row in `runs` (kind 'train'), which holds params, status and timing. Progress columns
        -- are rewritten by the training worker in short transactions; cancel is a flag it polls.
        CREATE TABLE model_runs (
            run_id            INTEGER PRIMARY KEY,
            dataset_id        INTEGER NOT NULL,
            version           VARCHAR NOT NULL,   -- version name within the dataset
            kind              VARCHAR NOT NULL CHECK (kind IN ('baseline', 'finetune')),
            task              VARCHAR NOT NULL,
            model             VARCHAR,            -- model folder started from
            device            VARCHAR,
            pid               INTEGER,            -- worker process while it runs
            cancel_requested  BOOLEAN NOT NULL DEFAULT false,
            step              INTEGER NOT NULL DEFAULT 0,
            total_steps       INTEGER,
            epoch             DOUBLE,
            loss              DOUBLE,
            eta_seconds       DOUBLE,
            phase             VARCHAR,            -- queued | loading | training | evaluating | saving | done
            artifact          VARCHAR,            -- folder of the saved model, under artifacts/
            updated_at        TIMESTAMP
        );
        -- The loss curve: one point per reported step (training loss; validation when evaluated).
        CREATE TABLE train_progress (
            run_id      INTEGER NOT NULL,
            step        INTEGER NOT NULL,
            epoch       DOUBLE,
            loss        DOUBLE,
            lr          DOUBLE,
            val_loss    DOUBLE,
            val_score   DOUBLE
        );
        -- Scores of a model run on an eval set, one row per metric ('accuracy', 'macro_f1',
        -- 'precision:<class>', 'loss', 'perplexity', 'exact_match', ...); detail holds the confusion matrix.
        CREATE TABLE eval_results (
            run_id      INTEGER NOT NULL,
            eval_set    VARCHAR NOT NULL,
            metric      VARCHAR NOT NULL,
            value       DOUBLE,
            detail      JSON,
            PRIMARY KEY (run_id, eval_set, metric)
        );
        -- Per eval item predictions, so two runs can be compared item by item (flips).
        CREATE TABLE eval_predictions (
            run_id      INTEGER NOT NULL,
            eval_set    VARCHAR NOT NULL,
            example_id  BIGINT NOT NULL,
            reference   VARCHAR,
            prediction  VARCHAR,
            correct     BOOLEAN,
            score       DOUBLE,     -- probability of the prediction (classification) or item loss (sft)
            PRIMARY KEY (run_id, eval_set, example_id)
        );
    """),
    Migration("0005_versions", """
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
    """),
    Migration("0006_label_order", """
        -- The order of a dataset's classes when it was given (an HF ClassLabel, curate ingest --labels):
        -- class ids of exports and saved models follow it; classes without one sort after, as before.
        ALTER TABLE labels ADD COLUMN position INTEGER;
    """),
    Migration("0014_run_owner", """
        -- The process running a run, as host:pid:start-ticks (curate/store/liveness.py): a run left
        -- 'running' by a killed process is marked 'interrupted' by the next run or opening.
        ALTER TABLE runs ADD COLUMN owner VARCHAR;
    """),
    Migration("0015_sessions", """
        -- UI sign-in sessions: only a sha256 of the random session id (kept in the browser's cookie) is
        -- stored, with the annotator it signs in and when it stops working. Sign-out deletes the row.
        CREATE TABLE ui_sessions (
            id_hash     VARCHAR PRIMARY KEY,
            annotator   VARCHAR NOT NULL,
            created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
            expires_at  TIMESTAMP NOT NULL
        );
    """),
    # Tasks ``spans`` (text + character-offset spans) and ``preference`` (prompt + chosen/rejected
    # responses), and their question kinds. DuckDB cannot alter a CHECK constraint, so the two tables
    # holding one are rebuilt with their rows and ids (no other table references them by constraint).
    Migration("0016_spans_preference", """
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
    """),
    Migration("0017_select", """
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
    """),
]


def applied(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the migrations recorded in this store, in order."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                         "AND table_name = '_migrations'").fetchall()[0][0]
    if not exists:
        con.execute("CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, "
                    "applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)")
    return [r[0] for r in con.execute("SELECT name FROM _migrations ORDER BY name").fetchall()]


def pending(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the migrations this store still needs."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                         "AND table_name = '_migrations'").fetchall()[0][0]
    done = set(applied(con)) if exists else set()
    return [m.name for m in MIGRATIONS if m.name not in done]


def migrate(con: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None, *,
            read_only: bool = False) -> list[str]:
    """Apply every pending migration, each in its own transaction with its record; return their names.

    A read-only store is read as it is when it needs no migration; else that is one line."""
    migrations = MIGRATIONS if migrations is None else migrations
    done = set(applied(con))
    newly = []
    pending = [m.name for m in migrations if m.name not in done]
    if read_only and pending:
        raise MigrationError(f"the store is read-only and was written by an older curate (it needs "
                             f"{', '.join(pending)}); fix: open a writable copy of the workspace once")
    for migration in migrations:
        if migration.name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql)
            con.execute("INSERT INTO _migrations (name) VALUES (?)", [migration.name])
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise MigrationError(f"migration {migration.name} failed and was rolled back: "
                                 f"{str(exc).splitlines()[0]}; fix: report this with the store file") from None
        con.execute("COMMIT")
        newly.append(migration.name)
    return newly


def schema(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The store's tables and columns, for comparing a fresh store with a migrated one."""
    return con.execute("""
        SELECT table_name, column_name, data_type, is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = 'main' AND table_catalog = current_database()
        ORDER BY table_name, ordinal_position""").fetchall()
