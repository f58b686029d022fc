-- Claim statuses received for one business day: events kept and claims whose latest status came that day.
select
    (select count(*) from erp.claim_status_history as h where h.business_date = :business_date) as events,
    (select count(*) from erp.claim_status as c where c.business_date = :business_date) as claims,
    (select count(*) from erp.claim_status as c where c.business_date = :business_date and c.is_final) as final_claims
