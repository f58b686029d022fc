insert into erp.journal_line (
    journal_line_key, journal_key, line_number, account, debit, credit, source_type, source_key,
    group_code, reason_code, memo, business_date)
select s.journal_line_key, s.journal_key, s.line_number, s.account, s.debit, s.credit, s.source_type, s.source_key,
       s.group_code, s.reason_code, s.memo, s.business_date
from stage_journal_line as s
where true
on conflict (journal_line_key) do nothing
