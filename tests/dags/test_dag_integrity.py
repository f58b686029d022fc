"""DAG files only declare: they import cleanly, pull in no heavy library, look up nothing, and carry policy.

Each check runs in a fresh interpreter so one DAG's imports cannot hide another's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from revcycle.airflow.runtime import RUN_ORDER

ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = sorted((ROOT / "dags").glob("*.py"))
HEAVY = ("pandas", "pyarrow", "great_expectations", "pyx12", "hl7apy", "sqlalchemy", "paramiko")

PROBE = r"""
import importlib.util, json, sys, time
import airflow.sdk                      # what every DAG file needs; its own imports are the baseline
from airflow.sdk import BaseHook, Variable

def refuse(*a, **k):
    raise RuntimeError("connection or variable look-up at DAG parse time")
BaseHook.get_connection = staticmethod(refuse)
Variable.get = staticmethod(refuse)
baseline = set(sys.modules)
path = sys.argv[1]
spec = importlib.util.spec_from_file_location("dag_under_test", path)
module = importlib.util.module_from_spec(spec)
start = time.perf_counter()
spec.loader.exec_module(module)
seconds = time.perf_counter() - start
added = sorted(m for m in set(sys.modules) - baseline if m.split(".")[0] in json.loads(sys.argv[2]))

from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=path)
dags = {}
for dag_id, dag in bag.dags.items():
    dags[dag_id] = {"owner": dag.owner, "tags": sorted(dag.tags), "doc": bool((dag.doc_md or "").strip()),
                    "retries": min(t.retries for t in dag.tasks), "schedule": type(dag.timetable).__name__,
                    "deadline": bool(dag.deadline), "catchup": dag.catchup}
print(json.dumps({"seconds": seconds, "heavy": added, "errors": {k: str(v) for k, v in bag.import_errors.items()},
                  "dags": dags, "baseline_heavy": sorted(m for m in json.loads(sys.argv[2]) if m in baseline)}))
"""


def probe(path: Path) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(ROOT / "var" / "airflow-dag-tests"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        }
    )
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), json.dumps(HEAVY)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module", params=DAG_FILES, ids=lambda p: p.name)
def dag_file(request):
    return request.param, probe(request.param)


def test_imports_without_errors_and_defines_its_dag(dag_file):
    path, result = dag_file
    assert result["errors"] == {}
    assert list(result["dags"]) == [path.stem], "one DAG per file, dag_id = file name"


def test_pulls_in_no_heavy_library(dag_file):
    _, result = dag_file
    # airflow.sdk itself loads sqlalchemy (Airflow 3.3.2); a DAG file must add none of the list on top.
    assert result["heavy"] == []
    assert set(result["baseline_heavy"]) <= {"sqlalchemy"}


def test_parses_fast(dag_file):
    _, result = dag_file
    assert result["seconds"] <= 0.5


def test_policy_owner_tags_retries_docs(dag_file):
    _, result = dag_file
    assert result["dags"]
    for dag in result["dags"].values():
        assert dag["owner"] and dag["owner"] != "airflow"
        assert "revcycle" in dag["tags"]
        assert dag["retries"] >= 2
        assert dag["doc"]


def test_run_day_runs_every_dag():
    assert sorted(RUN_ORDER) == sorted(p.stem for p in DAG_FILES)


def test_a_parse_time_lookup_is_caught(tmp_path):
    """The probe can fail: a DAG that reads a Variable at import time is reported."""
    bad = tmp_path / "bad_dag.py"
    bad.write_text("from airflow.sdk import Variable\nVariable.get('x')\n")
    env = dict(os.environ, AIRFLOW_HOME=str(tmp_path / "af"))
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(bad), json.dumps(HEAVY)], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode != 0 and "look-up at DAG parse time" in out.stderr


def test_deadline_alerts_on_for_the_scheduler_off_for_dag_test(dag_file):
    path, result = dag_file
    assert all(d["deadline"] for d in result["dags"].values())  # what a real deployment parses
    off = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(
            os.environ,
            REVCYCLE_DEADLINES="off",
            AIRFLOW_HOME=str(ROOT / "var" / "airflow-dag-tests"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
        ),
    )
    assert off.returncode == 0, off.stderr[-2000:]
    assert not any(d["deadline"] for d in json.loads(off.stdout.strip().splitlines()[-1])["dags"].values())


def test_unpausing_a_fresh_deployment_queues_no_catch_up_runs(dag_file):
    """catchup is off unless REVCYCLE_CATCHUP=on: a fresh deployment's first unpause runs the latest
    interval, not one run per day since the start date (missed days: `airflow backfill create`)."""
    _, result = dag_file
    assert all(dag["catchup"] is False for dag in result["dags"].values())
