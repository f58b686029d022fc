"""The OpenLineage provider's side of ``revcycle.jobs.lineage``: an extractor for our TaskFlow tasks.

Registered with ``AIRFLOW__OPENLINEAGE__EXTRACTORS=revcycle.airflow.lineage_extractor.RevcycleExtractor``
(the embedded runtime and docker-compose set it).  It replaces the provider's
Python extractor for ``@task`` operators: on completion (or failure) it hands
over what the task recorded - datasets, dataset facets and the revcycle run
facet - and nothing when the task recorded nothing.
"""

from __future__ import annotations

from airflow.providers.openlineage.extractors.base import BaseExtractor, OperatorLineage

from revcycle.jobs import lineage


class RevcycleExtractor(BaseExtractor):
    @classmethod
    def get_operator_classnames(cls) -> list[str]:
        return ["_PythonDecoratedOperator"]

    def _execute_extraction(self) -> OperatorLineage | None:
        return OperatorLineage()  # datasets are known once the step has run

    def extract_on_complete(self, task_instance: object) -> OperatorLineage | None:
        recorded = lineage.take(
            task_instance.dag_id, task_instance.task_id, task_instance.run_id, getattr(task_instance, "map_index", -1)
        )
        return lineage.to_operator_lineage(recorded) if recorded else None

    def extract_on_failure(self, task_instance: object) -> OperatorLineage | None:
        return self.extract_on_complete(task_instance)
