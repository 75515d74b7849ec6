-- The order of a dataset's classes when it was given (an HF ClassLabel, curate ingest --labels):
-- class ids of exports and saved models follow it; classes without one sort after, as before.
ALTER TABLE labels ADD COLUMN position INTEGER;
