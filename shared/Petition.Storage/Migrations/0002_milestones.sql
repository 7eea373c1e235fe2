-- A milestone is recorded once (the primary key) and published afterwards; published_at stays null
-- until the broker confirmed the event, so a counter that died in between publishes it at its next start.
CREATE TABLE petition_milestones (
    petition_id  uuid        NOT NULL REFERENCES petitions ON DELETE CASCADE,
    kind         text        NOT NULL CHECK (kind IN ('target', 'power-of-ten')),
    milestone    bigint      NOT NULL,
    total        bigint      NOT NULL,
    reached_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz NULL,
    PRIMARY KEY (petition_id, kind, milestone)
);
