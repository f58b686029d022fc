-- PostgreSQL: hold a transaction-scoped advisory lock on one business key (another poster of the same
-- key waits here until this transaction commits or rolls back, then sees what it wrote).
select pg_advisory_xact_lock(hashtextextended(:lock_key, 0))
