-- Dashboards: failed claim handoffs per business day: 276 sets the payers' 999s rejected (IK5/AK5 R, M, W, X),
-- and 277 statuses that reject or return the claim (categories A3, A6, A7, A8).
select business_date, 'rejected 276 sets' as kind, count(*) as n from erp.claim_inquiry_ack
where set_status in ('R', 'M', 'W', 'X') group by business_date
union all
select business_date, '277 rejections' as kind, count(*) as n from erp.claim_status_history
where category_code in ('A3', 'A6', 'A7', 'A8') group by business_date
order by business_date, kind
