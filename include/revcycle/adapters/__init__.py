"""The real systems: databases, ERP, ledger, lake storage, landing, SFTP, Great Expectations."""
