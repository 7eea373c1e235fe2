-- Signatures withdrawn or erased: their ids alone, so a batch redelivered after the removal (a worker that
-- died between its commit and its ack) does not store them again.
CREATE TABLE signature_removals (
    signature_id uuid        PRIMARY KEY,
    removed_at   timestamptz NOT NULL DEFAULT now()
);
