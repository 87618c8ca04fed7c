-- Bumped by "log out everywhere" and by a password change: a session made
-- under an older generation is refused on its next check.
ALTER TABLE users ADD COLUMN session_generation BIGINT NOT NULL DEFAULT 0;
