-- Lists and JSON that grow with a file (control numbers of every transaction set, per-transaction control
-- totals, every acknowledgement's location, every published object) are text: a 100,000-claim 835 has
-- more than a varchar(2000) holds, and a cut list would lose audit facts.  Databases created before this
-- file get their columns widened here (a no-op when they are text already).
alter table ops.ingestion_ledger
    alter column interchange_controls type text,
    alter column group_controls type text,
    alter column transaction_controls type text,
    alter column row_counts type text,
    alter column control_totals type text,
    alter column ack_path type text,
    alter column outputs type text;
alter table ops.recon_run alter column control_totals type text;
