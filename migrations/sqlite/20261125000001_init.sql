-- Users and their photos. Times are Unix milliseconds (portable across engines).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL,
    -- lower-cased username: "Alice" and "alice" are one account
    username_key  TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE photos (
    -- insertion order: the feed is ORDER BY id DESC
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- server-made public id (32 hex digits), used in URLs and object names
    public_id      TEXT    NOT NULL UNIQUE,
    user_id        INTEGER NOT NULL REFERENCES users (id),
    caption        TEXT,
    object_key     TEXT    NOT NULL,
    content_type   TEXT    NOT NULL,
    size_bytes     INTEGER NOT NULL,
    width          INTEGER NOT NULL,
    height         INTEGER NOT NULL,
    sha256         TEXT    NOT NULL,
    thumb_key      TEXT    NOT NULL,
    thumb_type     TEXT    NOT NULL,
    thumb_sha256   TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE INDEX photos_user_id ON photos (user_id);
