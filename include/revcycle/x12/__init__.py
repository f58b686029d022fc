"""X12 EDI: a streaming reader and one module per implementation guide."""
