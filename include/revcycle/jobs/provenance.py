"""Where a posted number came from: an ERP row or a lake file traced back to the inbound file.

    revcycle lineage erp.cash_receipt:<receipt_key>
    revcycle lineage erp.receipt_application:<application_key>
    revcycle lineage erp.journal_line:<journal_line_key>
    revcycle lineage erp.<other table>:<primary key>      (any table with source_sha256)
    revcycle lineage <lake parquet path>

The answer names the inbound file (original name, sha256, landing time,
interchange and transaction set control numbers, raw-zone object, validation
report) and, for 835 postings, the payment (payer, trace, payment date, ST02)
and claim (position, patient control number, payer claim number, CLP02) it
came from.  Identifiers only - no names, member ids or birth dates.
"""

from __future__ import annotations

import json

import pyarrow.compute as pc
from sqlalchemy import inspect, text

from revcycle.adapters import ledger
from revcycle.adapters.db import engine_for
from revcycle.adapters.lake import Lake


def _file(sha256: str) -> dict:
    row = ledger.get(sha256) or {}
    return (
        {
            k: (str(row[k]) if row.get(k) is not None else None)
            for k in (
                "sha256",
                "source",
                "original_name",
                "business_date",
                "landed_at",
                "state",
                "interchange_sender_id",
                "interchange_controls",
                "group_controls",
                "transaction_controls",
                "raw_path",
                "report_path",
                "report_sha256",
            )
        }
        if row
        else {"sha256": sha256, "state": "unknown to the ledger"}
    )


def _lake_row(dataset: str, key_column: str, key: str, outputs: list[str]) -> dict | None:
    lake = Lake.configured()
    for location in outputs:
        if f"/{dataset}/" in location and lake.exists(location):
            table = lake.read(location)
            table = table.filter(pc.equal(table[key_column], key))
            if table.num_rows:
                return table.to_pylist()[0]
    return None


def trace(ref: str) -> dict:
    if ref.endswith(".parquet"):
        lake = Lake.configured()
        sha = ref.rsplit("/", 1)[-1].removesuffix(".parquet")
        return {
            "lake_file": ref,
            "dataset": next((p for p in ref.split("/") if "__" in p), None),
            "rows": lake.read(ref).num_rows if lake.exists(ref) else None,
            "from_file": _file(sha),
        }
    if ":" not in ref or not ref.startswith("erp."):
        raise ValueError("give erp.<table>:<key> or a lake .parquet path")
    table_ref, key = ref.split(":", 1)
    table = table_ref.split(".", 1)[1]
    engine = engine_for("erp")
    if table not in inspect(engine).get_table_names(schema="erp"):
        raise ValueError(f"no ERP table {table!r}")
    pk = inspect(engine).get_pk_constraint(table, schema="erp")["constrained_columns"][0]
    with engine.connect() as conn:
        row = conn.execute(text(f"select * from erp.{table} where {pk} = :k"), {"k": key}).mappings().first()
    if row is None:
        raise ValueError(f"no row {key} in erp.{table}")
    row = dict(row)
    sha = row.get("source_sha256") or row.get("file_sha256")
    receipt_key = row.get("receipt_key") or row.get("journal_key")
    if sha is None and receipt_key:  # applications and journal lines hang off their cash receipt
        with engine.connect() as conn:
            sha = conn.execute(
                text("select source_sha256 from erp.cash_receipt where receipt_key = :k"), {"k": receipt_key}
            ).scalar()
    answer = {
        "erp": {
            "table": f"erp.{table}",
            "key": key,
            **{
                k: str(v)
                for k, v in row.items()
                if k.endswith(("amount", "_date", "_number", "_code", "_id", "_key", "debit", "credit"))
            },
        },
        "from_file": _file(sha) if sha else None,
    }
    outputs = json.loads((ledger.get(sha) or {}).get("outputs") or "[]") if sha else []
    if receipt_key:
        rem = _lake_row("canonical__remittance", "remittance_key", receipt_key, outputs)
        if rem:
            answer["payment"] = {
                k: str(rem[k])
                for k in (
                    "payer_identifier",
                    "payer_name",
                    "trace_number",
                    "payment_date",
                    "payment_amount",
                    "interchange_control_number",
                    "transaction_control_number",
                )
            }
    if row.get("claim_payment_key"):
        clp = _lake_row("canonical__claim_payment", "claim_payment_key", row["claim_payment_key"], outputs)
        if clp:
            answer["claim"] = {
                k: str(clp[k])
                for k in (
                    "claim_seq",
                    "patient_control_number",
                    "payer_claim_control_number",
                    "claim_status_code",
                    "charge_amount",
                    "paid_amount",
                )
            }
    return answer
