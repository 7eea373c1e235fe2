-- Verified signers (issue 15), the policy and the mail. A petition asks its online signers to confirm by email
-- (confirmation 'email') or trusts the campaign's own site to have verified them ('none'). Petitions created before
-- this migration keep counting at once, as they did; new ones ask for email unless created otherwise.
ALTER TABLE petitions ADD COLUMN confirmation text NOT NULL DEFAULT 'none' CHECK (confirmation IN ('email', 'none'));
ALTER TABLE petitions ALTER COLUMN confirmation SET DEFAULT 'email';
-- The language of its mails and pages.
ALTER TABLE petitions ADD COLUMN language text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'ko'));
-- A partner key may vouch for its signers: the site verified them, so they count at once on an 'email' petition.
ALTER TABLE api_keys ADD COLUMN vouches boolean NOT NULL DEFAULT false;
-- The relay refused the confirmation mail for good (5xx): the signature cannot be confirmed and expires.
ALTER TABLE signatures ADD COLUMN mail_undeliverable_at timestamptz NULL;
-- The expiry's scans: only rows awaiting confirmation, so the indexes stay as small as the backlog of unconfirmed ones.
CREATE INDEX signatures_awaiting_idx ON signatures (submitted_at) WHERE awaiting_confirmation;
CREATE INDEX signature_duplicates_awaiting_idx ON signature_duplicates (recorded_at) WHERE awaiting_confirmation;
