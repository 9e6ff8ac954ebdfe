-- One name for the security-answer secret: the answers wrap and its guess columns were
-- `rec_*` and `sq_*`; they are `answers_*`, as the PIN's are `pin_*`.
ALTER TABLE users RENAME COLUMN rec_salt TO answers_salt;
ALTER TABLE users RENAME COLUMN rec_params TO answers_params;
ALTER TABLE users RENAME COLUMN rec_sealed TO answers_sealed;
ALTER TABLE users RENAME COLUMN sq_failed TO answers_failed;
ALTER TABLE users RENAME COLUMN sq_locked_at TO answers_locked_at;
ALTER TABLE users RENAME COLUMN sq_lock_expiry TO answers_lock_expiry;
ALTER TABLE users RENAME COLUMN sq_override_at TO answers_override_at;
ALTER TABLE users RENAME COLUMN sq_lock_owner TO answers_lock_owner;
