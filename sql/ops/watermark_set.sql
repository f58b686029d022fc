insert into ops.source_watermark (source, mark, updated_at)
values (:source, :mark, :updated_at)
on conflict (source) do update set mark = excluded.mark, updated_at = excluded.updated_at
