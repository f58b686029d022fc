"""The whole-file columnar 835 mapping equals the set-by-set mapper, table for table, or declines the file.

The set-by-set mapper is the reference (its records are pinned in test_records_pinned.py); here every
file either maps to exactly ``to_table`` of its records (and the same balance checks), or is declined and
left to it.  A file the reference refuses must always be declined: the property test mutates a rich
synthetic 835 at random and checks both sides on each example.
"""

from __future__ import annotations

import datetime as dt
import hmac
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revcycle.adapters.storage import StagingWriter
from revcycle.domain.canonical import SCHEMAS, to_table, with_lineage
from revcycle.errors import RevcycleError
from revcycle.sources import remittance as remittance_source
from revcycle.sources.base import ParseContext
from revcycle.x12 import columnar, remittance_columns
from revcycle.x12.balancing import balance
from revcycle.x12.remittance import read_remittances
from tests.conftest import FIXTURES, sample_files, samples_dir
from tests.unit.sources.test_parse_properties import _mutations
from tests.unit.x12.columnar_cases import agrees_or_declines

FIX = FIXTURES / "x12" / "835"
LINEAGE = {
    "data_source": "remittance",
    "file_name": "test",
    "ingest_datetime": dt.datetime(2026, 11, 24, 8),
    "business_date": dt.date(2026, 11, 24),
}
BIG = 1 << 30
DAY = dt.date(2026, 11, 24)

ISA = "ISA*00*          *00*          *ZZ*SYNPAYER       *ZZ*SYNTHHOSP      *261120*0800*^*00501*{ctl}*0*P*:~\n"


def _set(control: str, body: list[str]) -> list[str]:
    return [f"ST*835*{control}", *body, f"SE*{len(body) + 2}*{control}"]


# Every branch the mappers take: header N1/REF*2U/DTM*405, claims with NM1 QC and IL (the last one kept),
# DTM 232/233/050 (last kept), AMT*AU, REF*F8 and 1K (the first kept), MOA and MIA remarks, lines with
# modifiers (more than four components: the fifth on is ignored), revenue codes, empty units, DTM 472/150/151,
# REF*6R, LQ*HE (and LQ*RX, not a remark), CAS with quantities and six triplets, claim-level CAS after lines,
# amounts written as "1.", ".5", "-0" and "007.10", LX closing a claim, PLB pairs, a reversal, a second set
# and a second group.
RICH_SET_1 = [
    "BPR*I*1107.6*C*ACH*CCP*01*011000015*DA*0001234567*1999999999**01*021000021*DA*0009876543*20261120",
    "TRN*1*TRC0101*1999999999",
    "REF*EV*RECEIVER1",
    "DTM*405*20261120",
    "N1*PR*SYNTHETIC PAYER*XV*PAYER01",
    "N3*1 TEST WAY",
    "REF*2U*PAYERREF1",
    "N1*PE*SYNTHETIC GENERAL HOSPITAL*XX*1999999984",
    "LX*1",
    "CLP*PCN0001*1*1000*800*100.*12*ICN0001*11*1**470",
    "CAS*PR*1*100",
    "NM1*QC*1*SYNTHOAK*AVERY****MI*ZZ000000001",
    "NM1*IL*1*SYNTHOAK*JORDAN****MI*ZZ000000009",
    "NM1*QC*1*SYNTHOAK*AVERY****MI*ZZ000000002",
    "MIA*0***12.5*MA01***********MA02*N1*M2*MA03",
    "MOA***MA15*N22",
    "DTM*232*20261101",
    "DTM*232*20261102",
    "DTM*233*20261105",
    "DTM*050*20261110",
    "REF*1K*PAYERCLAIM1",
    "REF*F8*ORIGINAL1",
    "AMT*AU*900",
    "AMT*AU*950",
    "SVC*HC:99213:25:59:GT:RT:EXTRA*600*500*0450*",
    "DTM*150*20261101",
    "DTM*151*20261103",
    "DTM*472*20261102",
    "CAS*CO*45*50*1*253*.5**A2*49.5*2.5",
    "REF*6R*L0001",
    "REF*6R*L0001B",
    "LQ*HE*N130",
    "LQ*RX*NOTAREMARK",
    "SVC*NU:0300*400*300**2",
    "CAS*CO*45*100",
    "CAS*OA*23*-0",
    "LQ*HE*M86",
    "LX*2",
    "CLP*PCN0002*22*-200*-150*-50*12*ICN0002*13*1",
    "CAS*PR*1*-50",
    "NM1*QC*1*SYNTHELM*BLAKE****MI*ZZ000000003",
    "SVC*HC:80053*-200*-150**1",
    "CAS*CO*45*-1*-1*45*-1*-1*45*-1*-1*45*-1*-1*45*-1*-1*45*-45*-1",
    "CLP*PCN0003*1*007.10*7.1**12*ICN0003",
    "PLB*1999999984*20261231*WO:ICN0099*25*L6:INT0001*-3.5*FB*0.5",
    "PLB*1999999984*20261231*72:ADV1*1.",
]
RICH_SET_2 = [
    "BPR*I*55.25*C*CHK************20261121",
    "TRN*1*TRC0102*1999999999",
    "N1*PR*SECOND PAYER",
    "N1*PE*SYNTHETIC GENERAL HOSPITAL*XX*1999999984",
    "CLP*PCN0004*1*60.25*55.25*5*12*ICN0004",
    "CAS*PR*3*5",
]
RICH_SET_3 = [
    "BPR*H*0*C*NON************20261122",
    "TRN*1*TRC0103*1999999999",
    "N1*PR*THIRD PAYER",
]


def _rich() -> str:
    first = _set("0001", RICH_SET_1) + _set("0002", RICH_SET_2)
    lines = [ISA.format(ctl="000000101").rstrip("~\n")]
    lines += ["GS*HP*SYNPAYER*SYNTHHOSP*20261120*0800*101*X*005010X221A1", *first, "GE*2*101"]
    lines += ["GS*HP*SYNPAYER*SYNTHHOSP*20261120*0800*102*X*005010X221A1", *_set("0003", RICH_SET_3), "GE*1*102"]
    lines += ["IEA*2*000000101"]
    return "~\n".join(lines) + "~\n"


RICH = _rich()


def reference_tables(path: Path) -> dict[str, pa.Table]:
    """``to_table`` of the set-by-set mapper's records and balance checks, every set in order."""
    rows: dict[str, list[dict]] = {name: [] for name in (*remittance_source.DATASETS, remittance_columns.BALANCE)}
    for _, rset in read_remittances(path):
        for name, records in rset.records().items():
            rows[name] += records
        rows[remittance_columns.BALANCE] += [
            {"level": level, "key": key, "transaction_control_number": rset.transaction_control, "difference_cents": d}
            for level, diffs in balance(rset).items()
            for key, d in diffs.items()
        ]
    return {name: to_table(name, records, LINEAGE) for name, records in rows.items()}


def columnar_tables(path: Path) -> dict[str, pa.Table] | None:
    mapped = remittance_columns.remittance_columns(path, BIG)
    if mapped is None:
        return None
    try:  # as the source's parse: a value too long for its column leaves the file to the reference
        out = {
            "canonical__remittance": to_table("canonical__remittance", [r.remittance for r in mapped.sets], LINEAGE),
            "canonical__provider_adjustment": to_table(
                "canonical__provider_adjustment", [p for r in mapped.sets for p in r.provider_adjustments], LINEAGE
            ),
        }
        for name, table in mapped.tables.items():
            assert int(mapped.set_rows[name].sum()) == len(table)
            columns = dict(zip(table.column_names, table.columns, strict=True))
            out[name] = with_lineage(name, columns, len(table), LINEAGE)
    except (RevcycleError, pa.ArrowInvalid):
        return None
    return out


def assert_same(path: Path) -> None:
    got, want = columnar_tables(path), reference_tables(path)
    assert got is not None, f"{path.name} was declined"
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name].schema == SCHEMAS[name]
        assert got[name].to_pylist() == want[name].to_pylist(), name


@pytest.fixture
def rich(tmp_path) -> Path:
    path = tmp_path / "rich.835"
    path.write_text(RICH)
    return path


def test_rich_file_maps_to_the_same_tables(rich):
    assert_same(rich)
    got = columnar_tables(rich)
    # What the rich file is there to exercise really is in it.
    claims = got["canonical__claim_payment"].to_pylist()
    assert [c["statement_from_date"] for c in claims[:1]] == [dt.date(2026, 11, 2)]
    assert claims[0]["original_reference"] == "PAYERCLAIM1" and claims[0]["coverage_amount"] == 950
    assert claims[1]["is_reversal"] and claims[2]["charge_amount"] == Decimal("7.10")
    lines = got["canonical__service_line_payment"].to_pylist()
    assert lines[0]["procedure_modifiers"] == "25:59:GT:RT" and lines[0]["units_paid"] == 1
    assert lines[0]["line_control_number"] == "L0001B" and lines[0]["service_date"] == dt.date(2026, 11, 2)
    assert {r["segment"] for r in got["canonical__remark"].to_pylist()} == {"MIA", "MOA", "LQ"}
    assert len(got["canonical__provider_adjustment"]) == 4
    assert max(a["triplet_seq"] for a in got["canonical__adjustment"].to_pylist()) == 6


@pytest.mark.parametrize("name", sorted(p.name for p in FIX.glob("*.835")))
def test_fixtures(name):
    if name == "legacy-4010-pipe-caret.835":  # a newline-terminated ISA: left to the set-by-set mapper
        assert remittance_columns.remittance_columns(FIX / name, BIG) is None
        return
    assert_same(FIX / name)


@pytest.mark.parametrize("path", sample_files("x12/835"), ids=lambda p: p.name if p else "none")
def test_real_samples_map_the_same_or_are_declined(path):
    got = columnar_tables(path)
    if got is None:
        return  # declined: the reference reads (or refuses) it, as its own tests check
    assert _rows(got) == _rows(reference_tables(path))


def test_real_samples_mostly_map():
    files = sorted(p for p in samples_dir("x12/835").iterdir() if p.is_file())  # skips, saying why, without them
    declined = {p.name for p in files if remittance_columns.remittance_columns(p, BIG) is None}
    # The reference refuses the first four (SVC01 with another component separator than ISA16; an unknown
    # implementation guide); the last has a newline-terminated ISA, which only the reference reads.
    assert declined <= {
        "lfh-x12__cob-contractural-adjustment.835",
        "lfh-x12__secondary-payment.835",
        "lfh-x12__tertiary-payment.835",
        "oopfactory__835_DeIdent_01.dat",
        "tigershark__835-example-2.txt",
    }
    assert len(files) - len(declined) >= 9


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    from revcycle.synthetic.day import generate_day

    work = tmp_path_factory.mktemp("columnar")
    generate_day(work, DAY, 600, 5, supply_messages=5)
    path = work / "day.835"
    path.write_bytes(b"".join(p.read_bytes() for p in sorted((work / "remittance").glob("*.835"))))
    return path


def test_generated_day_of_every_payer_in_one_file(generated):
    assert_same(generated)


def test_python_hashing_gives_the_pinned_keys(rich):
    """Keys are hashed in one comprehension here; they must equal ``joined_key`` of each text."""
    from revcycle.domain.keys import joined_key, joined_keys

    texts = ["a\x1fCLP\x1f1", "é\x1fSVC\x1f12", ""]
    assert joined_keys(t.encode() for t in texts) == [joined_key(t) for t in texts]


@pytest.mark.parametrize(
    "change",
    [
        ("CLP*PCN0003*1*007.10", "CLP*PCN0003*1*7E1"),  # BAD_NUMBER
        ("CLP*PCN0003*1*007.10", "CLP*PCN0003*1*7.105"),  # more decimals than the column keeps
        ("CLP*PCN0003*1*007.10", "CLP*PCN0003*1*1234567890123456"),  # too many digits
        ("CAS*PR*3*5", "CAS*PR**5"),  # a triplet without reason
        ("SVC*NU:0300", "SVC*NU"),  # SVC01 without code
        ("LX*1~\nCLP*PCN0001", "LX*1~\nCAS*CO*45*1~\nCLP*PCN0001"),  # CAS outside a claim
        ("CAS*PR*3*5", "CAS*PR*3*5~\nN1*PR*INSIDE"),  # N1 inside a claim
        (f"SE*{len(RICH_SET_1) + 2}*0001", f"SE*{len(RICH_SET_1) + 1}*0001"),  # SE01 wrong
        ("TRN*1*TRC0102*1999999999~\n", ""),  # no TRN
        ("REF*6R*L0001~", "REF*6R*L0001 ~"),  # a blank before the terminator
        ("*P*:~", "*P*:\n"),  # a newline-terminated ISA
        ("CLP*PCN0003", "CLP\r\n*PCN0003"),  # blanks after an id: the reference reads an unknown segment
        ("ICN0001", "I" * 60),  # longer than CLP07 may be
        ("BPR*I*1107.6*", "BPR*I*1107.011*"),  # a header amount with more decimals than its column keeps
        ("WO:ICN0099*25*", "WO:ICN0099*25.001*"),  # a PLB amount, the same
    ],
)
def test_what_the_reference_refuses_or_reads_differently_is_declined(tmp_path, change):
    old, new = change
    assert old in RICH
    path = tmp_path / "changed.835"
    path.write_text(RICH.replace(old, new, 1))
    try:
        reference_tables(path)
    except (RevcycleError, pa.ArrowInvalid):
        pass
    assert columnar_tables(path) is None


def _stage(path: Path, out_dir: Path, ack_dir: Path):
    ctx = ParseContext("ab" * 32, path.name, DAY, dt.datetime(2026, 11, 24, 8), "remittance", ack_dir)
    writer = StagingWriter(out_dir)
    result = remittance_source.parse_835(path, ctx, writer)
    writer.close(list(remittance_source.DATASETS) + ["check__balance"], SCHEMAS)
    return result


@pytest.fixture
def columnar_off(monkeypatch):
    """The setting that turns the columnar path off (0 MB): every file streams through the reference."""
    from revcycle import settings

    monkeypatch.setenv("REVCYCLE_COLUMNAR_MAX_MB", "0")
    settings.reset_settings()
    yield
    monkeypatch.delenv("REVCYCLE_COLUMNAR_MAX_MB")
    settings.reset_settings()


@pytest.mark.parametrize("run_segments", [columnar.CHUNK_SEGMENTS, 300])
def test_parse_stages_the_same_files_either_way(generated, tmp_path, request, monkeypatch, run_segments):
    """The source's parse: the same staged Parquet bytes, control totals, envelope and acknowledgements, whether
    the file is mapped in a few runs of sets or in many (each staged before the next is mapped)."""
    monkeypatch.setattr(columnar, "CHUNK_SEGMENTS", run_segments)
    fast = _stage(generated, tmp_path / "fast", tmp_path / "fast_acks")
    request.getfixturevalue("columnar_off")
    slow = _stage(generated, tmp_path / "slow", tmp_path / "slow_acks")
    _same_staging(fast, slow, tmp_path)


def test_a_run_declined_after_others_were_staged_leaves_only_the_reference(generated, tmp_path, request, monkeypatch):
    """The last claim's paid amount padded past 15 characters: the reference reads it, the columnar path
    declines that run only after staging the earlier ones; they are discarded and the set-by-set parse's
    files are what is staged, byte for byte."""
    text = generated.read_text()
    at = text.rfind("CLP*")
    paid = text.index("*", text.index("*", text.index("*", at + 4) + 1) + 1) + 1  # CLP04
    path = tmp_path / "late.835"
    path.write_text(text[:paid] + "0000000000" + text[paid:])
    monkeypatch.setattr(columnar, "CHUNK_SEGMENTS", 300)
    aborted, staged_before = [], []
    real_abort = StagingWriter.abort

    def abort(writer):
        staged_before.append(sum(writer.rows.values()) + sum(writer._waiting_rows.values()))
        aborted.append(True)
        real_abort(writer)

    monkeypatch.setattr(StagingWriter, "abort", abort)
    fast = _stage(path, tmp_path / "fast", tmp_path / "fast_acks")
    assert aborted and staged_before[0] > 0  # the columnar path had staged rows when it declined
    request.getfixturevalue("columnar_off")
    slow = _stage(path, tmp_path / "slow", tmp_path / "slow_acks")
    _same_staging(fast, slow, tmp_path)


def _same_staging(fast, slow, tmp_path: Path) -> None:
    fast.acks, slow.acks = [Path(a).name for a in fast.acks], [Path(a).name for a in slow.acks]
    assert fast == slow
    names = sorted(p.name for p in (tmp_path / "slow").glob("*.parquet"))
    assert names == sorted(p.name for p in (tmp_path / "fast").glob("*.parquet")) and len(names) == 7
    for name in names:
        assert pq.read_table(tmp_path / "fast" / name).equals(pq.read_table(tmp_path / "slow" / name)), name
        assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "slow" / name).read_bytes(), name
    acks = sorted(p.name for p in (tmp_path / "slow_acks").iterdir())
    assert acks and acks == sorted(p.name for p in (tmp_path / "fast_acks").iterdir())
    for name in acks:
        assert (tmp_path / "fast_acks" / name).read_bytes() == (tmp_path / "slow_acks" / name).read_bytes()


def test_a_header_amount_too_precise_is_refused_by_the_reference_with_its_reason(tmp_path):
    """The set-by-set mapper keeps BPR02 and PLB amounts as Decimals; only Arrow's cast to decimal128(18,2)
    refuses 1107.011. The parse must end in that refusal (BAD_AMOUNT_SCALE), not in Arrow's exception."""
    from revcycle.sources.base import ParseFailure

    path = tmp_path / "precise.835"
    path.write_text(RICH.replace("BPR*I*1107.6*", "BPR*I*1107.011*", 1))
    with pytest.raises(ParseFailure) as failure:
        _stage(path, tmp_path / "out", tmp_path / "acks")
    assert failure.value.reason == "BAD_AMOUNT_SCALE"


def test_parse_takes_the_columnar_path_by_default(generated, tmp_path, monkeypatch):
    def refuse(*_):
        raise AssertionError("the set-by-set mapper was called")

    monkeypatch.setattr(remittance_source, "map_remittances", refuse)
    result = _stage(generated, tmp_path / "out", tmp_path / "acks")
    assert result.control_totals["claims"] > 500


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.one_of(_mutations(RICH), _mutations((FIX / "paid-claims-four-cas-groups.835").read_text())))
def test_mutated_files_map_the_same_or_are_declined(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("mutated") / "m.835"
    path.write_bytes(data)
    agrees_or_declines(path, columnar_tables, reference_tables, _rows)


def _rows(tables: dict[str, pa.Table]) -> dict[str, list[dict]]:
    return {name: table.to_pylist() for name, table in tables.items()}


@pytest.mark.parametrize("key", ["a-short-key-0001", "k" * 64, "a-key-longer-than-one-sha256-block-" * 3])
def test_tokens_are_the_hmac_of_each_member_id(monkeypatch, key):
    from revcycle.domain import phi

    monkeypatch.setenv("REVCYCLE_TOKEN_KEY", key)
    phi.reset_token_key()
    try:
        values = ["ZZ000000001", "", None, "é-member", "M" * 200]
        # The library's HMAC is the reference for both the per-value and the per-list token.
        hmacs = [hmac.digest(key.encode(), v.encode(), "sha256").hex()[:32] if v else None for v in values]
        assert phi.tokenise_all(values) == [phi.tokenise(v) for v in values] == hmacs
    finally:
        phi.reset_token_key()


def test_nothing_to_tokenise_reads_no_key(monkeypatch):
    """The columnar mapper's import-time warm-up maps an 835 without member ids: it must not read (nor, on the
    embedded default, create) the token key file."""
    from revcycle.domain import phi

    def no_key():
        raise AssertionError("the token key was read")

    monkeypatch.setattr(phi, "_token_key", no_key)
    assert phi.tokenise_all([None, "", None]) == [None, None, None]
    assert phi.tokenise_all([]) == []


def test_runs_are_mapped_in_order_with_a_bounded_number_in_flight():
    """``_in_order`` keeps at most ``ahead`` runs mapped or mapping beyond the one the caller holds, so a caller
    that stages each run before taking the next never holds the whole file's tables."""
    import threading

    lock, started, taken, most = threading.Lock(), [0], [0], [0]

    def work(item):
        with lock:
            started[0] += 1
            most[0] = max(most[0], started[0] - taken[0])
        return item * 2

    out = []
    for value in columnar._in_order(work, list(range(40)), 2):
        with lock:
            taken[0] += 1
        out.append(value)
    assert out == [2 * i for i in range(40)] and 1 <= most[0] <= 2
