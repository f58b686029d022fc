"""Airflow's local-settings hook: Airflow imports this module (found on PYTHONPATH) in every process it starts.

Its one job here is ``revcycle.airflow.preload``: a worker started with ``REVCYCLE_PRELOAD`` imports those modules
before it forks task processes.  Without the variable it does nothing.
"""

from revcycle.airflow.preload import preload

preload()
