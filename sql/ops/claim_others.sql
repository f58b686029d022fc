-- Identities among the given keys that another file owns.
select c.claim_key, c.sha256 from ops.business_claim as c
where c.kind = :kind and c.scope = :scope and c.claim_key in :keys and c.sha256 <> :sha256
order by c.claim_key
