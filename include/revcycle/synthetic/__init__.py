"""Synthetic, seeded business-day data: every identity here is invented."""
