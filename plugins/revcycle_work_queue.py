"""Airflow plugin: the exception work queue and the business dashboards in the Airflow UI.

The FastAPI app is mounted in the api-server under /revcycle; two external views put its pages in the UI's
navigation (rendered in the UI frame, same origin, so the UI's session is the caller's identity).
"""

from airflow.plugins_manager import AirflowPlugin

from revcycle.airflow.work_queue_app import create_app


class RevcycleWorkQueuePlugin(AirflowPlugin):
    name = "revcycle_work_queue"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/revcycle", "name": "revcycle work queue"}]
    external_views = [
        {
            "name": "Exception work queue",
            "href": "revcycle/queue",
            "destination": "nav",
            "url_route": "revcycle-queue",
            "category": "browse",
        },
        {
            "name": "Business dashboards",
            "href": "revcycle/dashboards",
            "destination": "nav",
            "url_route": "revcycle-dashboards",
            "category": "browse",
        },
    ]
