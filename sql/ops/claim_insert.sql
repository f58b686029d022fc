-- Claim a business identity for a file; an identity claimed already keeps its owner.
insert into ops.business_claim (kind, scope, claim_key, sha256)
values (:kind, :scope, :claim_key, :sha256)
on conflict (kind, scope, claim_key) do nothing
