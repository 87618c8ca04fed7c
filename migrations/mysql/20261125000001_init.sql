-- Users and their photos (MySQL / MariaDB). Times are Unix milliseconds, ids
-- and sizes BIGINT, so every engine hands back the same Rust types.
CREATE TABLE users (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username      VARCHAR(64)  NOT NULL,
    -- lower-cased username: "Alice" and "alice" are one account
    username_key  VARCHAR(64)  NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    created_at    BIGINT       NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE photos (
    -- insertion order: the feed is ORDER BY id DESC
    id             BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    -- server-made public id (32 hex digits), used in URLs and object names
    public_id      VARCHAR(64)  NOT NULL,
    user_id        BIGINT       NOT NULL,
    caption        VARCHAR(1000),
    object_key     VARCHAR(255) NOT NULL,
    content_type   VARCHAR(64)  NOT NULL,
    size_bytes     BIGINT       NOT NULL,
    width          BIGINT       NOT NULL,
    height         BIGINT       NOT NULL,
    sha256         VARCHAR(64)  NOT NULL,
    thumb_key      VARCHAR(255) NOT NULL,
    thumb_type     VARCHAR(64)  NOT NULL,
    thumb_sha256   VARCHAR(64)  NOT NULL,
    created_at     BIGINT       NOT NULL,
    CONSTRAINT photos_public_id UNIQUE (public_id),
    CONSTRAINT photos_user_id FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
