"""277 and 277CA files mapped whole, column by column (``revcycle.x12.columnar``): the status events.

The set-by-set mapper (``revcycle.x12.claim_status``) stays the reference and the fallback: this gives the
same table as ``to_table`` of its events, or declines the file (besides what every columnar mapper
declines: a set without an STC, which the reference refuses as NO_STATUS).

What the reference keeps in locals is carried over segment positions: the HL level and id (ST clears
them), the payer, receiver, provider and member token (cleared by the HL codes that clear them there), a
non-claim TRN's trace (cleared by each HL), the claim a TRN*2 opens under a 22/23/PT level (closed by the
next HL), and the line an SVC opens inside it.  A claim's REF*1K and DTP*472 are its last ones, as the
reference completes a claim's events only when the claim closes; a line's dates are used when it has a
service date.  Events come out in file order of their STC, then STC01, STC10, STC11.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from revcycle.domain.canonical import MONEY
from revcycle.domain.keys import business_key
from revcycle.domain.phi import tokenise_all
from revcycle.x12.claim_status import LEVELS
from revcycle.x12.columnar import (
    NULL_TEXT,
    Declined,
    Envelope,
    Segments,
    SetSpan,
    amounts,
    carried,
    dates,
    hashed,
    labels,
    last_of,
    list_item,
    mapped_in_runs,
    mapped_whole,
    or_none,
    qualified,
    seq_within,
    spread,
)

EVENTS = "canonical__claim_status_event"


@dataclass
class StatusColumns:
    """A whole 277: its events (no lineage or description columns yet), with per set, in set order, its
    transaction control, implementation, claims and events."""

    envelope: Envelope
    events: pa.Table
    controls: list[str]
    implementations: list[str]
    claims: np.ndarray
    set_rows: np.ndarray


def claim_status_columns(path: Path, max_bytes: int) -> StatusColumns | None:
    """The file's events, whole, or None when the file is larger than ``max_bytes`` or declined (see module)."""
    return mapped_whole(path, max_bytes, "HN", "277", _map_chunk, _combine)


def claim_status_parts(path: Path, max_bytes: int) -> tuple[Envelope, Iterator[StatusColumns]] | None:
    """The file's envelope and its events run by run of whole sets (as ``remittance_columns.remittance_parts``),
    or None when the file is larger than ``max_bytes`` or declined at its envelopes.  A run may still be
    declined when it is reached (``DECLINES``)."""
    return mapped_in_runs(path, max_bytes, "HN", "277", _map_chunk, _combine)


def _combine(parts: list, envelope: Envelope) -> StatusColumns:
    return StatusColumns(
        envelope,
        pa.concat_tables(pa.table(p[0]) for p in parts),
        [c for p in parts for c in p[1]],
        [i for p in parts for i in p[2]],
        np.concatenate([p[3] for p in parts]),
        np.concatenate([p[4] for p in parts]),
    )


def _map_chunk(segs: Segments, sets: list[SetSpan], comp: str):
    n = segs.n
    is_st, is_hl = segs.tagged("ST"), segs.tagged("HL")
    set_of = np.cumsum(is_st, dtype=np.int32) - 1
    st_rows, hl_rows = np.flatnonzero(is_st), np.flatnonzero(is_hl)
    hl_code = qualified(segs, hl_rows, 3)
    hl_of = carried(n, hl_rows, st_rows)  # the HL in force; -1 after ST before the first HL
    codes = sorted(set(hl_code.tolist()))
    level_index = np.searchsorted(codes, hl_code) if len(hl_rows) else np.zeros(0, np.int64)
    level_names = [LEVELS.get(c, "unknown") for c in codes]
    claim_level = np.isin(hl_code, ["22", "23", "PT"])

    # 2200D/E TRN*2 under a claim level opens a claim; any other TRN is a trace; an HL closes both.
    trn = np.flatnonzero(segs.tagged("TRN"))
    trn_hl = hl_of[trn]
    opens = (trn_hl >= 0) & claim_level[np.maximum(trn_hl, 0)] & (qualified(segs, trn) == "2")
    claim_rows, trace_rows = trn[opens], trn[~opens]
    resets = np.flatnonzero(is_st | is_hl)
    claim_of = carried(n, claim_rows, resets)
    svc = np.flatnonzero(segs.tagged("SVC"))
    line_rows = svc[claim_of[svc] >= 0]  # an SVC outside a claim opens nothing
    line_of = carried(n, line_rows, np.concatenate([resets, claim_rows]))
    trace_of = carried(n, trace_rows, resets)

    # The context an STC sees: payer, receiver, provider, member token, each cleared where the reference
    # clears it (an HL 20 clears all; 21 and 19 the member; 19 the provider; ST everything).
    nm1 = np.flatnonzero(segs.tagged("NM1"))
    entity, ident = qualified(segs, nm1), segs.text(nm1, 9)
    ident_np = ident.to_numpy(zero_copy_only=False)
    hl_clears = {c: hl_rows[np.isin(hl_code, list(c))] for c in (("20",), ("20", "19"), ("20", "21", "19"))}
    payer = nm1[entity == "PR"]
    receiver = nm1[entity == "41"]
    provider = nm1[np.isin(entity, ["1P", "85"])]
    member = nm1[np.isin(entity, ["IL", "QC"]) & (ident_np != "")]
    payer_at = carried(n, payer, np.concatenate([st_rows, hl_clears[("20",)]]))
    receiver_at = carried(n, receiver, np.concatenate([st_rows, hl_clears[("20",)]]))
    provider_at = carried(n, provider, np.concatenate([st_rows, hl_clears[("20", "19")]]))
    member_at = carried(n, member, np.concatenate([st_rows, hl_clears[("20", "21", "19")]]))

    # A claim's last REF*1K (before its first SVC) and the last DTP*472 of each claim and line.
    nclaims, nlines = len(claim_rows), len(line_rows)
    ref = np.flatnonzero(segs.tagged("REF"))
    ref = ref[(claim_of[ref] >= 0) & (line_of[ref] < 0) & (qualified(segs, ref) == "1K")]
    payer_claim = spread(segs.text(ref, 2), last_of(claim_of[ref], nclaims))
    dtp = np.flatnonzero(segs.tagged("DTP"))
    dtp = dtp[(claim_of[dtp] >= 0) & (qualified(segs, dtp) == "472")]
    span = pc.split_pattern(segs.text(dtp, 3), "-", max_splits=1)
    start, end = list_item(span, 0), list_item(span, 1)
    start_date, end_date = dates(start), dates(pc.if_else(pc.equal(end, ""), start, end))
    on_line = line_of[dtp] >= 0
    claim_dtp, line_dtp = np.flatnonzero(~on_line), np.flatnonzero(on_line)
    claim_pick = last_of(claim_of[dtp[claim_dtp]], nclaims)
    line_pick = last_of(line_of[dtp[line_dtp]], nlines)
    claim_dates = (spread(start_date.take(claim_dtp), claim_pick), spread(end_date.take(claim_dtp), claim_pick))
    line_dates = (spread(start_date.take(line_dtp), line_pick), spread(end_date.take(line_dtp), line_pick))

    # 2220D SVC lines.
    procedure = pc.split_pattern(segs.text(line_rows, 1), comp)
    composite = pc.greater(pc.list_value_length(procedure), 1)
    first, second = list_item(procedure, 0), list_item(procedure, 1)
    line_qualifier = pc.if_else(composite, first, NULL_TEXT)
    line_code = pc.if_else(composite, second, first)
    line_charge = amounts(segs.text(line_rows, 2), MONEY, required=False)
    line_seq = seq_within(claim_of[line_rows])

    # STC: one event per composite (STC01 always, STC10 and STC11 when present), file order.
    stc = np.flatnonzero(segs.tagged("STC"))
    if (np.bincount(set_of[stc], minlength=len(sets)) == 0).any():
        raise Declined("a set without STC")
    stc_seq = seq_within(set_of[stc])
    composites = [segs.text(stc, 1), segs.text(stc, 10), segs.text(stc, 11)]
    picked = [np.arange(len(stc))] + [
        np.flatnonzero(pc.not_equal(c, "").to_numpy(zero_copy_only=False)) for c in composites[1:]
    ]
    event_stc = np.concatenate(picked)
    # Numbered among the composites present: STC11 is the second when STC10 is empty.
    stc10 = np.zeros(len(stc), np.int32)
    stc10[picked[1]] = 1
    event_number = np.concatenate(
        [np.full(len(picked[0]), 1, np.int32), np.full(len(picked[1]), 2, np.int32), 2 + stc10[picked[2]]]
    )
    order = np.lexsort((event_number, event_stc))
    event_stc, event_number = event_stc[order], event_number[order]
    text = pa.concat_arrays([c.take(p) for c, p in zip(composites, picked, strict=True)]).take(pa.array(order))
    parts = pc.split_pattern(text, comp)
    rows = stc[event_stc]
    claim, line = claim_of[rows], line_of[rows]
    in_claim, in_line = claim >= 0, line >= 0

    def per_stc(values: pa.Array) -> pa.Array:
        return values.take(pa.array(event_stc))

    hl = hl_of[rows]
    hl_ids = segs.text(hl_rows, 1)
    level = labels([*level_names, "claim", "service_line", ""], _event_level(hl, level_index, in_claim, in_line, codes))
    claim_seq = seq_within(set_of[claim_rows])
    line_has_date = pc.is_valid(line_dates[0]).to_numpy(zero_copy_only=False)
    use_line = in_line & line_has_date[np.maximum(line, 0)] if nlines else np.zeros(len(rows), bool)
    event_dates = []
    for k in (0, 1):
        from_claim = spread(claim_dates[k], np.where(in_claim & ~use_line, claim, -1))
        from_line = spread(line_dates[k], np.where(use_line, line, -1)) if nlines else from_claim
        event_dates.append(pc.coalesce(from_line, from_claim))
    stc_amounts = [amounts(segs.text(stc, k), MONEY, required=False) for k in (4, 5)]
    stc_dates = [dates(segs.text(stc, k)) for k in (2, 6, 8)]
    events = {
        "level": level,
        "hl_id": pc.fill_null(spread(hl_ids, hl), ""),
        "stc_seq": pa.array(stc_seq[event_stc], pa.int32()),
        "composite_seq": pa.array(event_number, pa.int32()),
        "payer_id": spread(or_none(segs.text(payer, 9)), payer_at[rows]),
        "payer_name": spread(or_none(segs.text(payer, 3)), payer_at[rows]),
        "receiver_id": spread(or_none(segs.text(receiver, 9)), receiver_at[rows]),
        "provider_id": spread(or_none(segs.text(provider, 9)), provider_at[rows]),
        "member_token": spread(pa.array(tokenise_all(segs.text(member, 9).to_pylist()), pa.string()), member_at[rows]),
        "trace_number": spread(or_none(segs.text(trace_rows, 2)), np.where(in_claim, -1, trace_of[rows])),
        "patient_control_number": spread(segs.text(claim_rows, 2), claim),
        "payer_claim_control_number": spread(payer_claim, claim),
        "claim_seq": spread(pa.array(claim_seq, pa.int32()), claim),
        "line_seq": spread(pa.array(line_seq, pa.int32()), line),
        "procedure_qualifier": spread(line_qualifier, line),
        "procedure_code": spread(line_code, line),
        "line_charge_amount": spread(line_charge, line),
        "category_code": or_none(list_item(parts, 0)),
        "status_code": or_none(list_item(parts, 1)),
        "entity_code": or_none(list_item(parts, 2)),
        "code_list_qualifier": or_none(list_item(parts, 3)),
        "status_date": per_stc(stc_dates[0]),
        "action_code": per_stc(or_none(segs.text(stc, 3))),
        "charge_amount": per_stc(stc_amounts[0]),
        "payment_amount": per_stc(stc_amounts[1]),
        "adjudication_date": per_stc(stc_dates[1]),
        "payment_method": per_stc(or_none(segs.text(stc, 7))),
        "check_date": per_stc(stc_dates[2]),
        "check_number": per_stc(or_none(segs.text(stc, 9))),
        "has_free_text": per_stc(pc.not_equal(segs.text(stc, 12), "")),
        "service_date": event_dates[0],
        "service_date_end": event_dates[1],
    }
    set_keys = [business_key("277", s.sender, s.interchange_control, s.group_control, s.control) for s in sets]
    event_set = set_of[rows]
    events.update(
        status_set_key=labels(set_keys, event_set),
        interchange_sender_id=labels([s.sender for s in sets], event_set),
        interchange_control_number=labels([s.interchange_control for s in sets], event_set),
        transaction_control_number=labels([s.control for s in sets], event_set),
        implementation=labels([s.version for s in sets], event_set),
    )
    events["claim_status_event_key"] = hashed(events["status_set_key"], events["stc_seq"], events["composite_seq"])
    return (
        events,
        [s.control for s in sets],
        [s.version for s in sets],
        np.bincount(set_of[claim_rows], minlength=len(sets)),
        np.bincount(event_set, minlength=len(sets)),
    )


def _event_level(hl: np.ndarray, level_index: np.ndarray, in_claim, in_line, codes: list[str]) -> np.ndarray:
    """Index into [HL levels..., claim, service_line, ""]: a claim's events are claim or service_line, any
    other event is its HL's level, or "" before the set's first HL."""
    out = np.where(hl >= 0, level_index[np.maximum(hl, 0)] if len(level_index) else 0, len(codes) + 2)
    out = np.where(in_claim, len(codes), out)
    return np.where(in_claim & in_line, len(codes) + 1, out)
