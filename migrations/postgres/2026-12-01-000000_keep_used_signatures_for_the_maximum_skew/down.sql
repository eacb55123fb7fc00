-- Nothing to undo: the longer expiries only keep entries a while longer, which the previous
-- version reads and prunes as it always did.
SELECT 1;
