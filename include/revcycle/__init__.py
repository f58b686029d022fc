"""revcycle: governed revenue-cycle integration pipelines.

The package holds all logic. Pure cores (``x12``, ``remittance``, ``generate``)
import no Airflow; adapters (``storage``, ``ledger``, ``erp``, ``validation``)
wrap the real systems; ``pipeline`` composes them into the steps a DAG calls.
"""

__version__ = "0.1.0"
