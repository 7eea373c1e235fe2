-- Every admin action, with who, when, what and how many rows it touched. Never holds an email or a name.
CREATE TABLE admin_audit (
    audit_id    bigserial   PRIMARY KEY,
    actor       text        NOT NULL,
    action      text        NOT NULL,
    petition_id uuid        NULL,
    details     jsonb       NOT NULL DEFAULT '{}',
    affected    bigint      NOT NULL DEFAULT 0,
    at          timestamptz NOT NULL DEFAULT now()
);

-- API keys for admins and partner sites. Only a SHA-256 of the key's secret part is kept.
CREATE TABLE api_keys (
    key_id      uuid        PRIMARY KEY,
    name        text        NOT NULL,
    scope       text        NOT NULL CHECK (scope IN ('admin', 'partner')),
    secret_hash bytea       NOT NULL,
    per_minute  integer     NOT NULL CHECK (per_minute > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text        NOT NULL,
    revoked_at  timestamptz NULL
);

-- Who may not sign: an address or range, an email domain, or one email (by its keyed hash, never in clear).
CREATE TABLE blocks (
    block_id     uuid        PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('address', 'email-domain', 'email')),
    address      cidr        NULL,
    email_domain text        NULL,
    dedup_key    bytea       NULL,
    reason       text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text        NOT NULL,
    CHECK ((kind = 'address') = (address IS NOT NULL)
       AND (kind = 'email-domain') = (email_domain IS NOT NULL)
       AND (kind = 'email') = (dedup_key IS NOT NULL))
);

-- What abuse handling needs of a signature, all removed by anonymisation:
--   client_address: the signer's address (the visitor's, for a partner site), for strike-outs by range;
--   email_domain:   the part after the @, for strike-outs of throwaway-mail domains;
--   contact_email:  the email itself, only when the signer agreed to be contacted, AES-GCM encrypted;
--   invalidated_by: the audit entry that struck it out. Struck-out rows stay (and keep their signer
--                   taken, so a re-sign is a repeat) but are not counted.
ALTER TABLE signatures
    ADD COLUMN client_address inet   NULL,
    ADD COLUMN email_domain   text   NULL,
    ADD COLUMN contact_email  bytea  NULL,
    ADD COLUMN invalidated_by bigint NULL REFERENCES admin_audit;

ALTER TABLE petitions ADD COLUMN anonymised_at timestamptz NULL;
