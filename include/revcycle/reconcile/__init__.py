"""Matching cores (pure: pandas and Decimal, no Airflow, no database)."""
