-- SQLite: a write (of nothing) as the transaction's first statement takes the database's single write
-- lock now, so the checks that follow read what every earlier poster committed, and no other poster can
-- write until this transaction ends.  (BEGIN IMMEDIATE cannot be used: the file is attached twice.)
delete from erp.cash_receipt where 1 = 0
