-- Users and their photos (PostgreSQL). Times are Unix milliseconds, ids and
-- sizes BIGINT, so every engine hands back the same Rust types.
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT   NOT NULL,
    -- lower-cased username: "Alice" and "alice" are one account
    username_key  TEXT   NOT NULL UNIQUE,
    password_hash TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE photos (
    -- insertion order: the feed is ORDER BY id DESC
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- server-made public id (32 hex digits), used in URLs and object names
    public_id      TEXT   NOT NULL UNIQUE,
    user_id        BIGINT NOT NULL REFERENCES users (id),
    caption        TEXT,
    object_key     TEXT   NOT NULL,
    content_type   TEXT   NOT NULL,
    size_bytes     BIGINT NOT NULL,
    width          BIGINT NOT NULL,
    height         BIGINT NOT NULL,
    sha256         TEXT   NOT NULL,
    thumb_key      TEXT   NOT NULL,
    thumb_type     TEXT   NOT NULL,
    thumb_sha256   TEXT   NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE INDEX photos_user_id ON photos (user_id);
