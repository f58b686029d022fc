select partner, subject, not_after, checked_at from ops.api_certificate order by not_after
