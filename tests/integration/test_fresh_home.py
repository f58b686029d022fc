"""Two commands started together on a home that has never run (run-day and ``revcycle airflow standalone``,
or two run-days): Airflow's metadata is migrated once, by one of them, and both go on."""

from __future__ import annotations

import threading

import pytest

pytestmark = pytest.mark.airflow


def test_two_commands_on_a_fresh_airflow_home_migrate_it_once(rc_home):
    from revcycle.airflow.runtime import airflow_env, ensure_airflow_home

    env = airflow_env()
    barrier, said, errors = threading.Barrier(2), [], []

    def prepare() -> None:
        barrier.wait()
        try:
            ensure_airflow_home(env, said.append)
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=prepare) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == []
    assert len([s for s in said if s.startswith("preparing Airflow home")]) == 1, said
    assert (rc_home / "airflow" / ".migrated").read_text() == "ok\n"
    passwords = rc_home / "airflow" / "simple_auth_manager_passwords.json.generated"
    assert passwords.stat().st_mode & 0o777 == 0o600  # Airflow appends the UI passwords it generates here
