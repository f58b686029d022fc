"""Canonical datasets, keys, PHI tokens, reference data and posting rules (pure)."""
