"""Delimited text files (CSV) read against a documented column contract (pure)."""
