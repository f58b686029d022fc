insert into ops.api_certificate (partner, subject, not_after, checked_at)
values (:partner, :subject, :not_after, :checked_at)
on conflict (partner) do update set subject = excluded.subject, not_after = excluded.not_after,
    checked_at = excluded.checked_at
