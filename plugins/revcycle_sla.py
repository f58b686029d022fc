"""Airflow plugin: the revcycle SLA listener (task latency to ops.task_latency, breaches alerted once)."""

from airflow.plugins_manager import AirflowPlugin

from revcycle.airflow import sla_listener


class RevcycleSlaPlugin(AirflowPlugin):
    name = "revcycle_sla"
    listeners = [sla_listener]
