CREATE TABLE petitions (
    petition_id  uuid        PRIMARY KEY,
    title        text        NOT NULL,
    description  text        NOT NULL,
    target       bigint      NOT NULL CHECK (target > 0),
    closes_at    timestamptz NULL,
    closed_at    timestamptz NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- One row per petition, updated once per committed batch (never once per signature).
CREATE TABLE petition_totals (
    petition_id    uuid        PRIMARY KEY REFERENCES petitions ON DELETE CASCADE,
    total          bigint      NOT NULL DEFAULT 0,
    version        bigint      NOT NULL DEFAULT 0,
    last_signed_at timestamptz NULL
);

CREATE TABLE petition_country_totals (
    petition_id uuid   NOT NULL REFERENCES petitions ON DELETE CASCADE,
    country     text   NOT NULL,
    total       bigint NOT NULL,
    PRIMARY KEY (petition_id, country)
);

-- No foreign key to petitions: the intake checked the petition, and a per-row RI check would take a
-- shared lock on the hot petition row for every signature of every concurrent batch.
CREATE TABLE signatures (
    signature_id uuid        PRIMARY KEY,
    petition_id  uuid        NOT NULL,
    dedup_key    bytea       NOT NULL,
    name         text        NOT NULL,
    country      text        NOT NULL,
    postal_code  text        NULL,
    source       text        NOT NULL CHECK (source IN ('online', 'offline')),
    submitted_at timestamptz NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now(),
    -- The final word on deduplication: one signature per canonical email per petition.
    CONSTRAINT signatures_one_per_signer UNIQUE (petition_id, dedup_key)
);

-- Accepted signatures that turned out to repeat an earlier signer; kept so their status can be told.
CREATE TABLE signature_duplicates (
    signature_id uuid        PRIMARY KEY,
    petition_id  uuid        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
