"""Everything that knows Airflow: the DAG factory, task bodies, listeners, the local runner."""
