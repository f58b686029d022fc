"""Who may do what in the work queue, decided in one place for the API, the pages and any other caller."""

from __future__ import annotations

import pytest

from revcycle.jobs import work_queue
from revcycle.jobs.work_queue import Actor

FINANCE_ITEM = {"owner_team": "finance"}


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (Actor("victor"), set()),
        (Actor("fiona", frozenset({"finance"})), {"assign", "comment", "resolve", "reopen"}),
        (Actor("rita", frozenset({"revenue cycle"})), set()),
        (Actor("boss", admin=True), set(work_queue.ACTIONS)),
    ],
)
def test_roles(actor, allowed):
    assert {a for a in work_queue.ACTIONS if work_queue.may(actor, a, FINANCE_ITEM)} == allowed


def test_members_and_airflow_users_come_from_the_versioned_file():
    assert work_queue.actor_for("fiona").teams == {"finance"} and work_queue.actor_for("fiona").role == "owner"
    assert work_queue.actor_for("admin").admin and work_queue.actor_for("stranger").role == "viewer"
    assert work_queue.actor_for("stranger", airflow_admin=True).admin  # Airflow's Admin role administers too
    users = dict(u.split(":") for u in work_queue.airflow_users().split(","))
    assert users["admin"] == "admin" and users["fiona"] == "viewer" and users["viewer"] == "viewer"
    assert set(work_queue.resolution_codes()) >= {"WRITTEN_OFF", "NOT_AN_ERROR"}
    assert "finance" in work_queue.teams() and "integration support" in work_queue.teams()
