"""Pipeline steps shared by every source: land, parse, validate, publish, post.

A source (``remittance``, later ``claim_status`` and ``supply_usage``)
contributes only what is specific to it: how to parse a file into canonical
datasets, and how to turn published datasets into ERP rows.
"""
