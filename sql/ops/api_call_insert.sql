insert into ops.api_call (correlation_id, called_at, partner, method, path, status, error, attempt, seconds, waited,
                          business_key)
values (:correlation_id, :called_at, :partner, :method, :path, :status, :error, :attempt, :seconds, :waited,
        :business_key)
