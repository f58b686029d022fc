"""Acknowledgements for any inbound X12 file: a 999 per interchange, or a TA1 for envelope errors."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from revcycle.errors import RevcycleError
from revcycle.x12.acknowledgement import IK5_CODES, TA1_CODES, GroupResult, SetResult, write_999, write_ta1
from revcycle.x12.reader import X12Reader

RECEIVER_ID = "REVCYCLE"


def ack_control(sha256: str, n: int) -> int:
    """Deterministic control number per inbound file and interchange (replays write the same ack)."""
    return (int(sha256[:12], 16) + n) % 10**9 or 1


def write_acks(
    reader: X12Reader, sha256: str, when: dt.datetime, ack_dir: Path | None, error: RevcycleError | None = None
) -> list[str]:
    """Write one acknowledgement per interchange seen; return their paths."""
    if ack_dir is None:
        return []
    ack_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    reason = error.reason if error else None
    envelope_error = reason in TA1_CODES and reason not in IK5_CODES or reason == "TRUNCATED" and not _in_set(reader)
    for n, isa in enumerate(reader.interchanges, start=1):
        last = n == len(reader.interchanges)
        buf = io.StringIO()
        if error is not None and last and envelope_error:
            write_ta1(
                buf,
                isa.control_number,
                isa.date,
                isa.time,
                reason,
                isa.sender_id,
                RECEIVER_ID,
                ack_control(sha256, n),
                when,
            )
            suffix = "ta1"
        else:
            groups = []
            for g_no, gs in enumerate(isa.groups, start=1):
                group = GroupResult(gs.functional_id, gs.control_number, gs.version)
                for s_no, st02 in enumerate(gs.transaction_set_ids, start=1):
                    failing = (
                        error is not None
                        and last
                        and g_no == len(isa.groups)
                        and s_no == len(gs.transaction_set_ids)
                        and reason in IK5_CODES
                    )
                    group.sets.append(
                        SetResult(
                            _st01(gs.functional_id), st02, not failing, IK5_CODES.get(reason or "") if failing else None
                        )
                    )
                groups.append(group)
            write_999(buf, isa, groups, RECEIVER_ID, ack_control(sha256, n), when)
            suffix = "999"
        path = ack_dir / f"{sha256[:16]}_{isa.control_number}.{suffix}"
        path.write_text(buf.getvalue())
        paths.append(str(path))
    return paths


def _in_set(reader: X12Reader) -> bool:
    isa = reader.interchanges[-1] if reader.interchanges else None
    return bool(isa and isa.groups and isa.groups[-1].transaction_set_ids)


def _st01(functional_id: str) -> str:
    return {"HP": "835", "HN": "277", "HR": "276", "FA": "999"}.get(functional_id, "")
