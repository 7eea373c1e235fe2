-- Verified signers (issue 15). A signature awaiting its signer's confirmation is stored and takes its signer (a
-- later one with the same email is a repeat, as for any stored signature) but does not count: it is in
-- petition_totals.pending, not total, until confirmed, and leaves pending when withdrawn, struck out or erased.
-- Both columns are added with a constant default, so no existing row is rewritten; existing signatures count.
ALTER TABLE signatures ADD COLUMN awaiting_confirmation boolean NOT NULL DEFAULT false;
ALTER TABLE petition_totals ADD COLUMN pending bigint NOT NULL DEFAULT 0;
-- A repeat on a petition that asks for confirmation is in pending too, as a first signature would be, until it
-- is withdrawn (strike-outs and erasures do not reach repeats; expiry is to purge them): otherwise pending would tell whoever signs in another person's name whether that
-- person had signed (+1 for a new signer, +0 for a repeat).
ALTER TABLE signature_duplicates ADD COLUMN awaiting_confirmation boolean NOT NULL DEFAULT false;
