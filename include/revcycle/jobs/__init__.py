"""Work over many files or a whole day: reconciliation, matching, inquiries, KPIs, SLAs, audit, lineage."""
