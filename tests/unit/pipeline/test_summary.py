"""What a run did, told from the ledger rows of the day before and after it."""

from __future__ import annotations

import json

from revcycle.pipeline.summary import describe_effect, run_effect


def row(sha: str, state: str, updated: str, inserted: int | None = None) -> dict:
    counts = {} if inserted is None else {"erp.cash_receipt": 3, "erp.cash_receipt.inserted": inserted}
    return {"sha256": sha, "state": state, "updated_at": updated, "row_counts": json.dumps(counts)}


def test_a_first_run():
    effect = run_effect([], [row("a", "posted", "t1", 3), row("b", "quarantined", "t1")])
    assert describe_effect(effect) == "2 new files (posted 1, quarantined 1)"


def test_a_rerun_with_nothing_new():
    rows = [row(s, "posted", "t1", 3) for s in "abc"]
    assert describe_effect(run_effect(rows, rows)) == "0 new files; 3 already posted, unchanged"


def test_a_replay_changes_nothing_in_the_erp():
    before = [row(s, "landed", "t2", 3) for s in "ab"]  # re-queued by the replay
    after = [row(s, "posted", "t3", 0) for s in "ab"]
    assert describe_effect(run_effect(before, after)) == "0 new files; 2 processed again, unchanged in the ERP"


def test_a_released_file_that_now_posts_and_a_new_one():
    before = [row("a", "landed", "t1"), row("b", "posted", "t1", 5)]
    after = [row("a", "posted", "t2", 4), row("b", "posted", "t1", 5), row("c", "posted", "t2", 1)]
    assert describe_effect(run_effect(before, after)) == (
        "1 new file (posted 1); 1 processed again, 1 changed the ERP or their state, 0 unchanged; "
        "1 already posted, unchanged"
    )


def test_function_extras_name_each_extract_rows():
    from revcycle.pipeline.summary import function_extras

    result = {"business_date": "2026-11-24", "open_exceptions": 7, "extracts": {"cash": 3, "claims": 9}}
    extras = function_extras(result, ["recon__cash", "recon__claims"])
    assert extras["recon__cash"] == {"open_exceptions": 7, "extracts": {"cash": 3, "claims": 9}, "rows": 3}
    assert extras["recon__claims"]["rows"] == 9
