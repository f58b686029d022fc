"""A large file's facts fit the ledger whole on both databases: every transaction set's control number,
per-transaction control totals, every acknowledgement and every published object.  (On PostgreSQL a
100,000-claim 835 overflowed varchar(2000) and its parse failed on every try; the control numbers were cut
at 4,000 characters.)"""

from __future__ import annotations

import datetime as dt
import json

from revcycle.adapters import ledger

SHA = "ab" * 32


def test_a_large_files_facts_are_kept_whole(backend):
    assert ledger.record_landed(
        sha256=SHA,
        source="remittance",
        original_name="big.835",
        size_bytes=1,
        raw_path=f"s3://bucket/raw/remittance/ab/{SHA}",
        business_date=dt.date(2026, 11, 24),
        dag_run_id="r",
    )
    transactions = [f"{n:09d}" for n in range(1, 2001)]  # 2,000 ST02s: 19,999 characters
    per_set = [{"st02": t, "bpr02": "445116.56", "sum_clp04": "445131.95", "claims": 203} for t in transactions]
    totals = {"bpr02": "58864136.70", "claims": 25447, "transactions": per_set}
    acks = ",".join(f"s3://bucket/outbound/acks/2026-11-24/{SHA[:16]}_{n:09d}.999" for n in range(60))
    outputs = [
        f"s3://bucket/lake/canonical__claim_payment/business_date=2026-11-24/p{n}/{SHA}.parquet" for n in range(60)
    ]

    ledger.set_envelope(SHA, "SENDER", ["000000001"], [str(n) for n in range(500)], transactions)
    ledger.set_results(SHA, row_counts={f"canonical__{n}": n for n in range(200)}, control_totals=totals, ack_path=acks)
    ledger.set_outputs(SHA, "1999999999", outputs)

    row = ledger.get(SHA)
    assert row["transaction_controls"].split(",") == transactions
    assert len(row["group_controls"].split(",")) == 500
    assert json.loads(row["control_totals"]) == totals
    assert len(json.loads(row["row_counts"])) == 200
    assert row["ack_path"] == acks
    assert json.loads(row["outputs"]) == outputs
