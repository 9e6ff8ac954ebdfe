-- Which counted guess set the current lock: a guess that reaches the limit locks before it is
-- checked, and only that guess, proved right, may lift the lock again.
ALTER TABLE users ADD COLUMN pin_lock_owner TEXT;
ALTER TABLE users ADD COLUMN sq_lock_owner TEXT;
