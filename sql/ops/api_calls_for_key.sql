-- The calls made for one business transaction (a file, an inquiry), in order.
select correlation_id, called_at, partner, method, path, status, error, attempt, seconds, waited
from ops.api_call where business_key = :business_key order by called_at, attempt
