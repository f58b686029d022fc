"""Outbound 276 claim status inquiries: choose the claims, write one file per payer, upload it.

    build(day)  -> claims in the latest open A/R snapshot, billed ``inquiry_after_days`` ago or more,
                   with no 835 payment and no final/rejected 277 status, not asked in the last
                   ``reinquire_days`` (named SQL ``erp/inquiry_candidates``); one 276 per payer.
    upload(key) -> the payer's SFTP outbound folder (Airflow connection in trading_partners.toml),
                   or the local exchange folder on the embedded default.

Replay-safe: a file is identified by (276, payer, business day); its control
number comes from the business day, its bytes from the snapshot, so a rebuilt
file is byte-identical and an existing one is never rebuilt.  The file (PHI by
design: a payer needs the subscriber's name to find the claim) is kept in the
raw zone; the ERP keeps the inquiries without PHI (``erp.claim_inquiry``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from revcycle.adapters import erp, ledger
from revcycle.adapters.db import as_date, engine_for, query
from revcycle.adapters.objectstore import local_copy
from revcycle.adapters.storage import copy_private, private_dir, private_opener, sha256_file
from revcycle.domain.decimals import cents
from revcycle.domain.keys import business_key
from revcycle.domain.reference import trading_partners
from revcycle.settings import get_settings
from revcycle.x12.inquiry import InquiryClaim, Party, interchange_control, write_276
from revcycle.x12.reader import Delimiters

log = logging.getLogger(__name__)
KIND = "276"
DELIMITERS = Delimiters("*", ":", "^", "~")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def file_key(payer_id: str, business_date: dt.date) -> str:
    return business_key(KIND, payer_id, business_date)


def candidates(business_date: dt.date) -> list[dict]:
    s = get_settings()
    params = {
        "business_date": business_date,
        "submitted_before": business_date - dt.timedelta(days=s.inquiry_after_days),
        "asked_after": business_date - dt.timedelta(days=s.reinquire_days),
    }
    with engine_for("erp").connect() as conn:
        return [dict(r) for r in query(conn, "erp/inquiry_candidates", params).mappings()]


def outbound_files(business_date: dt.date) -> list[dict]:
    with engine_for("ops").connect() as conn:
        return [
            dict(r)
            for r in query(conn, "ops/outbound_for_day", {"kind": KIND, "business_date": business_date}).mappings()
        ]


def _get(key: str) -> dict | None:
    with engine_for("ops").connect() as conn:
        row = query(conn, "ops/outbound_get", {"file_key": key}).mappings().first()
    return dict(row) if row else None


def _demographics(rows: list[dict]) -> dict[tuple[str, str], dict]:
    from revcycle.sources.open_items import demographics

    wanted: dict[str, set] = defaultdict(set)
    for r in rows:
        wanted[r["source_sha256"]].add((r["payer_id"], r["patient_control_number"]))
    found: dict[tuple[str, str], dict] = {}
    for sha, keys in wanted.items():
        landed = ledger.get(sha)
        try:
            if landed is None:
                raise FileNotFoundError(sha)
            with local_copy(landed["raw_path"]) as raw:
                found.update(demographics(str(raw), keys))
        except FileNotFoundError:
            log.warning(
                "open A/R snapshot %s is not in the raw zone: %d claims cannot be asked about", sha[:12], len(keys)
            )
    return found


def build(business_date: dt.date, dag_run_id: str | None = None) -> list[dict]:
    """Write the day's 276 per payer (or find it written already); return one pointer per file."""
    s = get_settings()
    s.ensure_dirs()
    partners = trading_partners()
    by_payer: dict[str, list[dict]] = defaultdict(list)
    for row in candidates(business_date):
        by_payer[row["payer_id"]].append(row)
    pointers = []
    for sequence, payer_id in enumerate(sorted(partners["payers"]), start=1):
        key = file_key(payer_id, business_date)
        existing = _get(key)
        if existing is not None:
            pointers.append(_pointer(existing))
            continue
        rows = by_payer.pop(payer_id, [])
        if not rows:
            continue
        pointers.append(_write_payer_file(business_date, sequence, partners, payer_id, rows, dag_run_id))
    for payer_id, rows in sorted(by_payer.items()):
        log.warning("payer %s has %d claims to ask about but no trading partner entry", payer_id, len(rows))
    log.info(
        "276 inquiries for %s: %d files, %d claims", business_date, len(pointers), sum(p["claims"] for p in pointers)
    )
    return pointers


def _write_payer_file(
    business_date: dt.date, sequence: int, partners: dict, payer_id: str, rows: list[dict], dag_run_id: str | None
) -> dict:
    s = get_settings()
    cfg, me = partners["payers"][payer_id], partners["submitter"]
    people = _demographics(rows)
    claims, skipped = [], 0
    for r in rows:
        p = people.get((r["payer_id"], r["patient_control_number"]))
        if p is None or not p["member_id"]:
            skipped += 1
            continue
        claims.append(
            InquiryClaim(
                patient_control_number=r["patient_control_number"],
                payer_claim_control_number=r["payer_claim_control_number"],
                billed_amount=cents(r["billed_amount"]),
                service_date_from=as_date(r["service_date_from"]),
                service_date_to=as_date(r["service_date_to"]),
                subscriber_last_name=p["subscriber_last_name"],
                subscriber_first_name=p["subscriber_first_name"],
                member_id=p["member_id"],
                birth_date=p["subscriber_birth_date"],
                gender=p.get("subscriber_gender") or "U",
            )
        )
    if skipped:
        log.warning("payer %s: %d claims skipped, no subscriber demographics in the snapshot", payer_id, skipped)
    if not claims:
        return {"file_key": None, "payer_id": payer_id, "claims": 0, "skipped": skipped, "state": "nothing_to_send"}
    control = interchange_control(business_date, sequence)
    submitter = Party(me["interchange_qualifier"], me["interchange_id"], me["name"], npi=me["npi"])
    payer = Party(cfg["interchange_qualifier"], cfg["interchange_id"], cfg["name"], payer_id=payer_id)
    name = f"276_{payer_id}_{business_date:%Y%m%d}_{control}.x12"
    folder = private_dir(s.raw_zone / "outbound" / KIND)
    tmp = folder / f".{name}.writing"
    with open(tmp, "w", encoding="ascii", newline="", opener=private_opener) as out:
        sets = write_276(
            out,
            DELIMITERS,
            submitter,
            payer,
            claims,
            control,
            business_date,
            int(cfg.get("max_claims_per_set", 50)),
            me.get("usage", "P"),
        )
        out.flush()
        os.fsync(out.fileno())
    sha = sha256_file(tmp)
    final = private_dir(folder / sha[:2]) / sha
    os.replace(tmp, final)
    by_pcn = {r["patient_control_number"]: r for r in rows}
    erp.load(
        {
            "claim_inquiry": [
                {
                    "inquiry_key": business_key(KIND, payer_id, pcn, business_date),
                    "claim_key": by_pcn[pcn]["claim_key"],
                    "payer_id": payer_id,
                    "patient_control_number": pcn,
                    "payer_claim_control_number": by_pcn[pcn]["payer_claim_control_number"],
                    "billed_amount": Decimal(str(by_pcn[pcn]["billed_amount"])),
                    "interchange_receiver_id": cfg["interchange_id"],
                    "interchange_control_number": f"{control:09d}",
                    "group_control_number": str(control),
                    "transaction_control_number": st.control_number,
                    "file_sha256": sha,
                    "business_date": business_date,
                }
                for st in sets
                for pcn in st.patient_control_numbers
            ]
        }
    )
    # The ops row last: it marks the file done, so a crash before it rebuilds the same bytes.
    with engine_for("ops").begin() as conn:
        query(
            conn,
            "ops/outbound_insert",
            {
                "file_key": file_key(payer_id, business_date),
                "kind": KIND,
                "partner_id": payer_id,
                "business_date": business_date,
                "file_name": name,
                "sha256": sha,
                "raw_path": str(final),
                "interchange_control": f"{control:09d}",
                "claims": len(claims),
                "transaction_sets": len(sets),
                "dag_run_id": dag_run_id,
                "now": _now(),
            },
        )
    return _pointer(_get(file_key(payer_id, business_date)), skipped=skipped)


def _pointer(row: dict, **extra) -> dict:
    return {
        "file_key": row["file_key"],
        "payer_id": row["partner_id"],
        "file_name": row["file_name"],
        "claims": row["claims"],
        "transaction_sets": row["transaction_sets"],
        "state": row["state"],
        **extra,
    }


def upload(key: str, dag_run_id: str | None = None) -> dict:
    """Send one written 276 to its payer; a file already uploaded is not sent again."""
    row = _get(key)
    if row is None:
        raise ValueError(f"no outbound file {key}")
    if row["state"] == "uploaded":
        return _pointer(row)
    cfg = trading_partners()["payers"][row["partner_id"]]
    if cfg.get("core_conn_id"):
        target = _exchange_realtime(row, cfg, dag_run_id)
    elif cfg.get("conn_id"):
        from revcycle.adapters.sftp import from_airflow_connection

        transport = from_airflow_connection(cfg["conn_id"], cfg.get("remote_dir", "/outbound"))
        try:
            transport.upload(row["raw_path"], row["file_name"])
            target = f"{transport.describe()}/{row['file_name']}"
        finally:
            transport.close()
    else:
        target = str(local_upload(Path(row["raw_path"]), row["partner_id"], row["file_name"]))
    with engine_for("ops").begin() as conn:
        query(
            conn,
            "ops/outbound_set_uploaded",
            {"file_key": key, "target": target, "now": _now(), "dag_run_id": dag_run_id},
        )
    log.info("276 %s uploaded for payer %s (%d claims)", row["file_name"], row["partner_id"], row["claims"])
    return _pointer(_get(key))


def _exchange_realtime(row: dict, cfg: dict, dag_run_id: str | None) -> str:
    """Send a 276 to the payer's CAQH CORE real-time endpoint and land its 277 answer (or the 999 that rejects
    the 276) in the raw zone, where the claim_status (or payer_acks) steps take it as they take a file.  The
    PayloadID comes from the 276's business key, so a repeated send is the same request to the partner."""
    import uuid

    from revcycle.adapters.landing import MemoryFolder, land_source
    from revcycle.adapters.objectstore import read_location
    from revcycle.adapters.partner_api import CoreEnvelope, PartnerApi, PartnerConfig, core_exchange

    partners = trading_partners()
    payload = read_location(row["raw_path"])
    if payload is None:
        raise ValueError(f"the 276 {row['file_name']} is gone from the raw zone")
    envelope = CoreEnvelope(
        payload_type="X12_276_Request_005010X212",
        processing_mode="RealTime",
        payload_id=str(uuid.UUID(hex=business_key("core", row["file_key"]))),
        sender_id=partners["submitter"]["interchange_id"],
        receiver_id=cfg["interchange_id"],
        timestamp=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    api = PartnerApi(PartnerConfig.from_connection(cfg["core_conn_id"]))
    path = cfg.get("core_path", "/core/realtime")
    try:
        meta, answer = core_exchange(api, path, envelope, payload)
    finally:
        api.close()
    kind = meta.get("PayloadType", "")
    source, suffix = ("payer_acks", "999") if kind.startswith("X12_999") else ("claim_status", "277")
    name = f"core_{row['partner_id']}_{envelope.payload_id}.{suffix}"
    s = get_settings()
    land_source(
        source,
        MemoryFolder({name: answer}, f"{api.config.base_url}{path}"),
        s.raw_root,
        ["*"],
        as_date(row["business_date"]),
        0,
        dag_run_id,
    )
    log.info("276 %s answered in real time by %s (%s)", row["file_name"], row["partner_id"], kind)
    return f"{api.config.base_url}{path}#{envelope.payload_id}"


def local_upload(path: Path, payer_id: str, name: str) -> Path:
    """The embedded default's stand-in for the payer's SFTP folder: temp name, then rename."""
    folder = private_dir(get_settings().exchange / payer_id / "outbound")
    tmp = folder / f".{name}.part"
    copy_private(path, tmp)
    os.replace(tmp, folder / name)
    return folder / name


def status(business_date: dt.date) -> dict:
    """Counts of the day's inquiries by 999 answer: accepted, rejected, awaiting (none yet)."""
    with engine_for("erp").connect() as conn:
        rows = query(conn, "erp/inquiry_status", {"business_date": business_date}).mappings().all()
    counts = {"inquiries": len(rows), "accepted": 0, "rejected": 0, "awaiting_ack": 0}
    for r in rows:
        code = r["ack_status"]
        if code is None:
            counts["awaiting_ack"] += 1
        elif code in ("A", "E"):
            counts["accepted"] += 1
        else:
            counts["rejected"] += 1
    return counts
