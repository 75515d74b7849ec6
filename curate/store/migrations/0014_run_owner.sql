-- The process running a run, as host:pid:start-ticks (curate/store/liveness.py): a run left
-- 'running' by a killed process is marked 'interrupted' by the next run or opening.
ALTER TABLE runs ADD COLUMN owner VARCHAR;
