"""A synthetic payer's side of the exchange: answer the 276s it received with 999s.

Used by the synthetic business day (``revcycle run-day``) and the tests, never
by production code.  Each 276 in the exchange folder gets one 999 back into the
inbound ``acks`` folder, once: like a real payer, a synthetic one never answers
a file twice nor reuses an interchange control number on a later day; payers listed in ``REJECTING`` reject every set
(IK5*R*5, AK9*R) so the match-back has rejections to show, the others accept.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from revcycle.adapters.storage import private_dir
from revcycle.x12.acknowledgement import GroupResult, SetResult, write_999
from revcycle.x12.reader import X12Reader

REJECTING = ("1999888777",)


def answer_inquiries(exchange: Path, acks_inbound: Path, day: dt.date) -> list[Path]:
    private_dir(acks_inbound)
    written = []
    for path in sorted(exchange.glob("*/outbound/276_*.x12")):
        payer_id = path.parent.parent.name
        # 276_<payer>_<day>_<ISA13>.x12; its 999 carries the same ISA13. The exchange keeps every 276 ever sent:
        # answering one again on a later day would send a second 999 under that ISA13 (DUPLICATE_INTERCHANGE).
        if (acks_inbound / f"999_{payer_id}_{int(path.stem.rsplit('_', 1)[1]):09d}.999").exists():
            continue  # answered already: a payer acknowledges a file once
        with open(path, "rb") as fh:
            reader = X12Reader(fh)
            for _ in reader:
                pass
        for isa in reader.interchanges:
            reject = payer_id in REJECTING
            groups = []
            for gs in isa.groups:
                group = GroupResult(gs.functional_id, gs.control_number, gs.version)
                group.sets = [
                    SetResult("276", st02, not reject, "5" if reject else None) for st02 in gs.transaction_set_ids
                ]
                groups.append(group)
            buf = io.StringIO()
            when = dt.datetime.combine(day, dt.time(8, 0))
            write_999(buf, isa, groups, isa.receiver_id, int(isa.control_number) % 10**9, when)
            target = acks_inbound / f"999_{payer_id}_{isa.control_number}.999"
            target.write_text(buf.getvalue())
            written.append(target)
    return written
