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
