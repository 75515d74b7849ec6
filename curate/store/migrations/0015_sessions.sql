-- UI sign-in sessions: only a sha256 of the random session id (kept in the browser's cookie) is
-- stored, with the annotator it signs in and when it stops working. Sign-out deletes the row.
CREATE TABLE ui_sessions (
    id_hash     VARCHAR PRIMARY KEY,
    annotator   VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    expires_at  TIMESTAMP NOT NULL
);
