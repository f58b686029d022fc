"""The malformed corpus: named cases across 835, 277, 999, HL7 and CSV, each with the outcome it must get.

Every case is built here from small synthetic files written for this corpus (no real patient, payer or
provider), by one named mutation, so the reason a case must get is readable next to the bytes that
earn it.  ``tests/corpus/test_corpus.py`` runs each case through the pipeline steps and through
``revcycle inspect`` and asserts both reach the same outcome; docs/testing.md describes it.

An outcome is the file's (``posted`` or ``quarantined`` with a reason) and, for message- or row-level
sources (HL7, the OR usage CSV), the reasons of the messages or rows refused inside a posted file.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tests.conftest import FIXTURES


@dataclass(frozen=True)
class Case:
    name: str  # <kind>/<scenario>
    source: str  # the pipeline source that receives it
    filename: str
    data: bytes
    reason: str | None  # None: the file posts
    rejected: tuple[str, ...] = ()  # reasons of refused messages or rows inside a posted file
    prior: bytes | None = None  # a file processed first (duplicates)
    inspect: bool = True  # False: the outcome depends on history (inspect cannot decide it)

    @property
    def state(self) -> str:
        return "quarantined" if self.reason else "posted"


# -- X12 helpers ---------------------------------------------------------------------------------------
def recount(text: str) -> str:
    """Set SE01 of every set to its real segment count, so a mutation inside a set is what fails."""
    out, count = [], 0
    for seg in text.split("~"):
        tag = seg.strip().split("*", 1)[0]
        if tag == "ST":
            count = 0
        count += 1
        if tag == "SE":
            parts = seg.split("*")
            parts[1] = str(count)
            seg = "*".join(parts)
        out.append(seg)
    return "~".join(out)


def sub(pattern: str, repl: str, count: int = 1) -> Callable[[str], str]:
    return lambda text: recount(re.sub(pattern, repl, text, count=count))


def drop(segment_start: str) -> Callable[[str], str]:
    """Remove the first segment that starts with ``segment_start``."""
    return lambda text: recount(re.sub(r"(?m)^" + re.escape(segment_start) + r"[^~]*~\n?", "", text, count=1))


B835 = (FIXTURES / "x12" / "835" / "paid-claims-four-cas-groups.835").read_text()

B277 = """ISA*00*          *00*          *ZZ*1123456789     *ZZ*SYNTHHOSP      *261124*0900*^*00501*000000301*0*P*:~
GS*HN*1123456789*SYNTHHOSP*20261124*0900*301*X*005010X212~
ST*277*0001*005010X212~
BHT*0010*08*R301*20261124*0900*DG~
HL*1**20*1~
NM1*PR*2*SYNTHETIC PAYER*****PI*1123456789~
HL*2*1*21*1~
NM1*41*2*SYNTHETIC GENERAL HOSPITAL*****46*SYNTHHOSP~
HL*3*2*19*1~
NM1*1P*2*SYNTHETIC GENERAL HOSPITAL*****XX*1999999984~
HL*4*3*22*0~
NM1*IL*1*SYNTHELM*FINLEY****MI*ZZ000000301~
TRN*2*PCN0301~
STC*F1:65:PR*20261124**600.00*297.19*20261124~
REF*1K*ICN0301~
DTP*472*RD8*20261103-20261103~
SE*15*0001~
GE*1*301~
IEA*1*000000301~
"""

B999 = """ISA*00*          *00*          *ZZ*1123456789     *ZZ*SYNTHHOSP      *261124*0900*^*00501*000000501*0*P*:~
GS*FA*1123456789*SYNTHHOSP*20261124*0900*501*X*005010X231A1~
ST*999*0001*005010X231A1~
AK1*HR*1001*005010X212~
AK2*276*0001*005010X212~
IK5*A~
AK9*A*1*1*1~
SE*6*0001~
GE*1*501~
IEA*1*000000501~
"""

# -- 835 ---------------------------------------------------------------------------------------------------
X835: list[tuple[str, Callable[[str], str], str | None]] = [
    ("good", lambda t: t, None),
    ("empty", lambda t: "", "EMPTY_FILE"),
    ("blank-lines-only", lambda t: "\r\n" * 50, "EMPTY_FILE"),
    ("leading-blank-lines-and-bom", lambda t: "\ufeff\n\n   \n" + t, None),
    (
        "isa-not-blank-padded",
        lambda t: t.replace("*SYNPAYER       *", "*SYNPAYER*", 1).replace("*SYNTHHOSP      *", "*SYNTHHOSP*", 1),
        None,
    ),
    ("cut-mid-segment", lambda t: t[: t.index("CLP*PCN0002") + 9], "TRUNCATED"),
    ("cut-before-se", lambda t: t[: t.index("SE*29")], "TRUNCATED"),
    ("cut-before-iea", lambda t: t[: t.index("IEA*")], "TRUNCATED"),
    ("isa01-one-character", lambda t: t.replace("ISA*00*", "ISA*0*", 1), "ISA_SYNTAX"),
    ("isa-extra-element", lambda t: t.replace("ISA*00*", "ISA*00**", 1), "ISA_SYNTAX"),
    ("isa06-over-long", lambda t: t.replace("*SYNPAYER       *", "*SYNPAYER-PAYER-PAYER*", 1), "ISA_TOO_LONG"),
    ("isa13-superscript-digit", lambda t: t.replace("*000000101*0*P", "*00000010\u00b9*0*P", 1), "ISA_SYNTAX"),
    ("isa13-letters", lambda t: t.replace("*000000101*0*P", "*00000010A*0*P", 1), "ISA_SYNTAX"),
    ("text-before-isa", lambda t: "REMITTANCE REPORT PAGE 1\n" + t, "TEXT_BEFORE_ISA"),
    ("no-envelope-starts-at-gs", lambda t: t[t.index("GS*") :], "MISSING_ENVELOPE"),
    ("no-envelope-starts-at-st", lambda t: t[t.index("ST*") : t.index("GE*")], "MISSING_ENVELOPE"),
    ("isa16-is-segment-terminator", lambda t: t.replace("*P*:~", "*P*~~", 1), "DELIMITER_COLLISION"),
    ("isa11-is-component-separator", lambda t: t.replace("*^*00501", "*:*00501", 1), "DELIMITER_COLLISION"),
    ("se01-wrong", lambda t: t.replace("SE*29*0001", "SE*31*0001"), "SE_COUNT_MISMATCH"),
    ("se01-superscript-digits", lambda t: t.replace("SE*29*0001", "SE*2\u00b9*0001"), "SE_COUNT_MISMATCH"),
    ("se02-differs-from-st02", lambda t: t.replace("SE*29*0001", "SE*29*0002"), "SE_CONTROL_MISMATCH"),
    ("ge01-wrong", lambda t: t.replace("GE*1*101", "GE*2*101"), "GE_COUNT_MISMATCH"),
    ("ge01-superscript-digit", lambda t: t.replace("GE*1*101", "GE*\u00b9*101"), "GE_COUNT_MISMATCH"),
    ("ge02-differs-from-gs06", lambda t: t.replace("GE*1*101", "GE*1*102"), "GE_CONTROL_MISMATCH"),
    ("iea01-wrong", lambda t: t.replace("IEA*1*", "IEA*2*"), "IEA_COUNT_MISMATCH"),
    ("iea01-superscript-digit", lambda t: t.replace("IEA*1*", "IEA*\u00b9*"), "IEA_COUNT_MISMATCH"),
    ("iea02-differs-from-isa13", lambda t: t.replace("IEA*1*000000101", "IEA*1*000000102"), "IEA_CONTROL_MISMATCH"),
    ("nul-byte-in-segment", lambda t: t.replace("N1*PR*SYNTHETIC", "N1*PR*SYN\x00THETIC"), "NUL_BYTE"),
    ("segment-after-iea", lambda t: t + "CLP*X*1*1*1~\n", "UNEXPECTED_SEGMENT"),
    ("gs01-is-claim-status", lambda t: t.replace("GS*HP*", "GS*HN*"), "WRONG_TRANSACTION_TYPE"),
    ("st01-is-277", lambda t: t.replace("ST*835*", "ST*277*"), "WRONG_TRANSACTION_TYPE"),
    ("gs08-unknown-version", lambda t: t.replace("005010X221A1", "005010X999"), "UNSUPPORTED_VERSION"),
    ("st03-unknown-version", lambda t: t.replace("ST*835*0001", "ST*835*0001*006020X221"), "UNSUPPORTED_VERSION"),
    ("interchange-without-sets", lambda t: t[: t.index("GS*")] + "IEA*0*000000101~\n", "NO_TRANSACTION_SETS"),
    ("group-without-sets", lambda t: t[: t.index("ST*")] + "GE*0*101~\nIEA*1*000000101~\n", "NO_TRANSACTION_SETS"),
    ("no-bpr", drop("BPR*"), "MISSING_BPR"),
    ("no-trn", drop("TRN*"), "MISSING_TRN"),
    ("bpr02-empty", sub(r"BPR\*I\*348\.50\*", "BPR*I**"), "MISSING_ELEMENT"),
    ("bpr02-underscore", sub(r"BPR\*I\*348\.50\*", "BPR*I*34_8.50*"), "BAD_NUMBER"),
    ("bpr02-full-width-digits", sub(r"BPR\*I\*348\.50\*", "BPR*I*\uff13\uff14\uff18.50*"), "BAD_NUMBER"),
    ("bpr02-exponent", sub(r"BPR\*I\*348\.50\*", "BPR*I*3.485E2*"), "BAD_NUMBER"),
    ("bpr02-plus-sign", sub(r"BPR\*I\*348\.50\*", "BPR*I*+348.50*"), "BAD_NUMBER"),
    ("bpr02-blank-padded", sub(r"BPR\*I\*348\.50\*", "BPR*I* 348.50 *"), "BAD_NUMBER"),
    ("bpr02-negative-exponent", sub(r"BPR\*I\*348\.50\*", "BPR*I*34850E-2*"), "BAD_NUMBER"),
    ("bpr02-negative-credit", sub(r"BPR\*I\*348\.50\*C", "BPR*I*-348.50*C"), "NEGATIVE_CREDIT_PAYMENT"),
    ("bpr02-too-large", sub(r"BPR\*I\*348\.50\*", "BPR*I*1234567890123456.00*"), "BAD_AMOUNT_SIZE"),
    ("clp03-empty", sub(r"CLP\*PCN0001\*1\*500\*", "CLP*PCN0001*1**"), "MISSING_ELEMENT"),
    ("clp04-empty", sub(r"CLP\*PCN0001\*1\*500\*300\*", "CLP*PCN0001*1*500**"), "MISSING_ELEMENT"),
    ("clp04-huge-exponent", sub(r"CLP\*PCN0001\*1\*500\*300\*", "CLP*PCN0001*1*500*1E999999999*"), "BAD_NUMBER"),
    ("clp04-two-points", sub(r"CLP\*PCN0001\*1\*500\*300\*", "CLP*PCN0001*1*500*300.0.0*"), "BAD_NUMBER"),
    ("clp03-sixteen-digits", sub(r"CLP\*PCN0001\*1\*500\*", "CLP*PCN0001*1*1234567890123456*"), "BAD_AMOUNT_SIZE"),
    ("clp04-three-decimals", sub(r"CLP\*PCN0001\*1\*500\*300\*", "CLP*PCN0001*1*500*300.001*"), "BAD_AMOUNT_SCALE"),
    ("svc02-empty", sub(r"SVC\*HC:99213:25\*500\*", "SVC*HC:99213:25**"), "MISSING_ELEMENT"),
    ("svc03-empty", sub(r"SVC\*HC:99213:25\*500\*300\*", "SVC*HC:99213:25*500**"), "MISSING_ELEMENT"),
    ("cas-amount-missing", sub(r"CAS\*CO\*45\*150~", "CAS*CO*45~"), "MISSING_ELEMENT"),
    ("cas-amount-empty", sub(r"CAS\*CO\*45\*150~", "CAS*CO*45**1~"), "MISSING_ELEMENT"),
    (
        "cas-seven-triplets",
        sub(r"CAS\*CO\*45\*150~", "CAS*CO*45*150" + "*45*0*" * 6 + "*45*0~"),
        "CAS_TOO_MANY_TRIPLETS",
    ),
    ("cas-amount-without-reason", sub(r"CAS\*CO\*45\*150~", "CAS*CO**150~"), "CAS_TRIPLET_WITHOUT_REASON"),
    ("plb-amount-empty", sub(r"\*L6:INT0001\*-3\.5~", "*L6:INT0001*~"), "MISSING_ELEMENT"),
    ("svc01-not-a-composite", sub(r"SVC\*HC:99213:25\*", "SVC*99213*"), "BAD_PROCEDURE_COMPOSITE"),
    ("svc01-foreign-separator", sub(r"SVC\*HC:99213:25\*", "SVC*HC>99213>25*"), "BAD_PROCEDURE_COMPOSITE"),
    ("svc01-qualifier-alone", sub(r"SVC\*HC:99213:25\*", "SVC*HC*"), "BAD_PROCEDURE_COMPOSITE"),
    ("cas-before-any-claim", sub(r"LX\*1~", "LX*1~\nCAS*CO*45*0~"), "CAS_OUTSIDE_CLAIM"),
    ("svc-before-any-claim", sub(r"LX\*1~", "LX*1~\nSVC*HC:99213*0*0**1~"), "SVC_OUTSIDE_CLAIM"),
    ("clp01-empty", sub(r"CLP\*PCN0001\*", "CLP**"), "MISSING_CLAIM_ID"),
    ("clp01-over-38", sub(r"CLP\*PCN0001\*", "CLP*" + "P" * 39 + "*"), "ELEMENT_TOO_LONG"),
    ("clp01-over-60", sub(r"CLP\*PCN0001\*", "CLP*" + "P" * 61 + "*"), "ELEMENT_TOO_LONG"),
    ("clp07-over-50", sub(r"\*ICN0001\*", "*" + "I" * 51 + "*"), "ELEMENT_TOO_LONG"),
    ("trn02-empty", sub(r"TRN\*1\*TRC0001\*", "TRN*1**"), "MISSING_TRACE"),
    ("trn02-over-50", sub(r"TRN\*1\*TRC0001\*", "TRN*1*" + "T" * 51 + "*"), "ELEMENT_TOO_LONG"),
    ("trn03-empty", sub(r"TRN\*1\*TRC0001\*1999999999", "TRN*1*TRC0001*"), "MISSING_PAYER_ID"),
    ("trn03-over-40", sub(r"TRN\*1\*TRC0001\*1999999999", "TRN*1*TRC0001*" + "9" * 41), "ELEMENT_TOO_LONG"),
    (
        "st02-over-20",
        lambda t: t.replace("ST*835*0001", "ST*835*" + "1" * 21).replace("SE*29*0001", "SE*29*" + "1" * 21),
        "ELEMENT_TOO_LONG",
    ),
    ("cas-reason-over-5", sub(r"CAS\*CO\*45\*150~", "CAS*CO*123456*150~"), "ELEMENT_TOO_LONG"),
    ("clp02-unknown-status", sub(r"CLP\*PCN0001\*1\*", "CLP*PCN0001*9*"), "BAD_CLAIM_STATUS"),
    ("bpr16-missing", sub(r"\*20261120~\nTRN", "*~\nTRN"), "MISSING_PAYMENT_DATE"),
    ("bpr16-not-a-date", sub(r"\*20261120~\nTRN", "*20261332~\nTRN"), "INVALID_PAYMENT_DATE"),
    ("bpr01-unknown-handling", sub(r"BPR\*I\*", "BPR*Z*"), "BAD_HANDLING_CODE"),
    ("bpr04-unknown-method", sub(r"\*C\*ACH\*", "*C*XYZ*"), "BAD_PAYMENT_METHOD"),
    ("bpr03-unknown-flag", sub(r"\*348\.50\*C\*", "*348.50*X*"), "BAD_CREDIT_DEBIT_FLAG"),
    ("production-date-missing", drop("DTM*405"), None),  # DTM*405 is situational: a warning, not a refusal
    ("transaction-unbalanced", sub(r"BPR\*I\*348\.50\*", "BPR*I*348.51*"), "UNBALANCED_TRANSACTION"),
    ("service-line-unbalanced", sub(r"SVC\*HC:80053\*200\*170", "SVC*HC:80053*200*171"), "UNBALANCED_SERVICE_LINE"),
]

# -- 277 ---------------------------------------------------------------------------------------------------
X277: list[tuple[str, Callable[[str], str], str | None]] = [
    ("good", lambda t: t, None),
    ("empty", lambda t: "", "EMPTY_FILE"),
    ("no-stc", drop("STC*"), "NO_STATUS"),
    ("stc-category-unknown", sub(r"STC\*F1:", "STC*Q9:"), "BAD_STATUS_CATEGORY"),
    ("stc04-exponent", sub(r"\*\*600\.00\*", "**6E2*"), "BAD_NUMBER"),
    ("stc05-full-width", sub(r"\*297\.19\*", "*\uff12\uff19\uff17.19*"), "BAD_NUMBER"),
    ("stc04-too-large", sub(r"\*\*600\.00\*", "**9999999999999999*"), "BAD_AMOUNT_SIZE"),
    ("trn02-over-50", sub(r"TRN\*2\*PCN0301", "TRN*2*" + "P" * 51), "ELEMENT_TOO_LONG"),
    ("ref-1k-over-50", sub(r"REF\*1K\*ICN0301", "REF*1K*" + "I" * 51), "ELEMENT_TOO_LONG"),
    ("gs01-is-remittance", lambda t: t.replace("GS*HN*", "GS*HP*"), "WRONG_TRANSACTION_TYPE"),
    ("unknown-version", lambda t: t.replace("005010X212", "005010X299"), "UNSUPPORTED_VERSION"),
    ("interchange-without-sets", lambda t: t[: t.index("GS*")] + "IEA*0*000000301~\n", "NO_TRANSACTION_SETS"),
    ("nul-byte", lambda t: t.replace("SYNTHETIC PAYER", "SYNTHETIC\x00PAYER"), "NUL_BYTE"),
    ("se01-wrong", lambda t: t.replace("SE*15*0001", "SE*16*0001"), "SE_COUNT_MISMATCH"),
    ("cut-mid-set", lambda t: t[: t.index("REF*1K")], "TRUNCATED"),
    ("no-envelope", lambda t: t[t.index("ST*") : t.index("GE*")], "MISSING_ENVELOPE"),
    ("text-before-isa", lambda t: "277 STATUS REPORT\n" + t, "TEXT_BEFORE_ISA"),
    ("isa-not-blank-padded", lambda t: t.replace("*1123456789     *", "*1123456789*", 1), None),
]

# -- 999 ---------------------------------------------------------------------------------------------------
X999: list[tuple[str, Callable[[str], str], str | None]] = [
    ("good", lambda t: t, None),
    ("empty", lambda t: "", "EMPTY_FILE"),
    ("gs01-not-fa", lambda t: t.replace("GS*FA*", "GS*HP*"), "WRONG_TRANSACTION_TYPE"),
    ("st01-not-999", lambda t: t.replace("ST*999*", "ST*997*"), "WRONG_TRANSACTION_TYPE"),
    ("unknown-version", lambda t: t.replace("005010X231A1", "005010X230"), "UNSUPPORTED_VERSION"),
    ("se01-wrong", lambda t: t.replace("SE*6*0001", "SE*7*0001"), "SE_COUNT_MISMATCH"),
    ("ge02-wrong", lambda t: t.replace("GE*1*501", "GE*1*502"), "GE_CONTROL_MISMATCH"),
    ("iea02-wrong", lambda t: t.replace("IEA*1*000000501", "IEA*1*000000599"), "IEA_CONTROL_MISMATCH"),
    ("nul-byte", lambda t: t.replace("AK1*HR", "AK1*H\x00R"), "NUL_BYTE"),
    ("interchange-without-sets", lambda t: t[: t.index("GS*")] + "IEA*0*000000501~\n", "NO_TRANSACTION_SETS"),
    ("cut-mid-set", lambda t: t[: t.index("AK9*")], "TRUNCATED"),
    ("text-before-isa", lambda t: "ACK\n" + t, "TEXT_BEFORE_ISA"),
    ("not-utf8", lambda t: t.replace("AK1*HR", "AK1*H\udcffR"), "NOT_UTF8"),
]

# -- HL7 DFT^P03 ---------------------------------------------------------------------------------------------
_MSG = (
    "MSH|^~\\&|ORSYS|SYNTHHOSP|ERP|SYNTHHOSP|20261124090100||DFT^P03^DFT_P03|{ctl}|P|2.5.1\r"
    "EVN|P03|20261124090100\r"
    "PID|1||SMRN0000{n}^^^SYNTH^MR||SYNTHCEDAR^JESSIE||19380504|U\r"
    "PV1|1|O|OR2^01^A|||||||SUR|||||||||V2611240000{n}\r"
    "FT1|1|{ctl}-1||{date}|20261124090100|CG|SUT-SU-0210^Suture, absorbable 2-0^VENDOR|||{qty}|{ext}|{unit}|OR2"
    "||||||||||||92928\r"
    "ZIM|1|{gtin}|{lot}|||N|N|CASE2611240000{n}\r"
)


def _dft(n: int, **over: str) -> str:
    fields = {
        "ctl": f"SUP26112400000{n}",
        "n": str(n),
        "date": "20261124090100",
        "qty": "1",
        "ext": "14.20",
        "unit": "14.20",
        "gtin": "10614141000170",
        "lot": "",
    }
    fields.update(over)
    return _MSG.format(**fields)


def _hl7(bad: str, **over: str) -> str:
    """A good message and a second one with one change (``bad`` is a regex substitution on it)."""
    second = _dft(2, **over)
    if bad:
        pattern, repl = bad.split(" => ")
        second = re.sub(pattern, repl, second, count=1)
    return _dft(1) + second


HL7: list[tuple[str, str, str | None, tuple[str, ...]]] = [
    # (scenario, file text, file reason, refused message reasons)
    ("good", _hl7(""), None, ()),
    ("lf-line-ends", _hl7("").replace("\r", "\n"), None, ()),
    ("ft1-10-exponent", _hl7("", qty="1E400"), None, ("BAD_NUMBER",)),
    ("ft1-10-sixteen-digits", _hl7("", qty="1000000000000000"), None, ("BAD_AMOUNT_SIZE",)),
    ("ft1-12-exponent", _hl7("", unit="1E20", ext=""), None, ("BAD_NUMBER",)),
    ("ft1-10-huge-and-ft1-11-empty", _hl7("", qty="999999999999999", ext="", unit="99999"), None, ("BAD_AMOUNT_SIZE",)),
    ("ft1-10-exponent-ft1-11-empty", _hl7("", qty="1E30", ext=""), None, ("BAD_NUMBER",)),
    ("ft1-10-full-width", _hl7("", qty="\uff12"), None, ("BAD_NUMBER",)),
    ("ft1-10-underscore", _hl7("", qty="1_0"), None, ("BAD_NUMBER",)),
    ("ft1-10-zero", _hl7("", qty="0"), None, ("BAD_QUANTITY",)),
    ("ft1-10-negative", _hl7("", qty="-2"), None, ("BAD_QUANTITY",)),
    ("ft1-10-four-decimals", _hl7("", qty="1.0001"), None, ("BAD_NUMBER",)),
    ("ft1-11-three-decimals", _hl7("", ext="14.205"), None, ("BAD_NUMBER",)),
    ("ft1-4-not-a-date", _hl7("", date="20261399"), None, ("BAD_DATE",)),
    ("msh-10-empty", _hl7(r"\|SUP261124000002\|P\| => ||P|"), None, ("MISSING_CONTROL_ID",)),
    ("no-ft1", _hl7(r"FT1\|[^\r]*\r => "), None, ("NO_FT1",)),
    ("ft1-before-pid", _hl7(r"PID\|[^\r]*\r => "), None, ("FT1_WITHOUT_PID",)),
    ("gtin-check-digit", _hl7("", gtin="10614141000171"), None, ("BAD_GTIN_CHECK_DIGIT",)),
    ("bad-segment-id", _hl7(r"EVN\| => E-N|"), None, ("BAD_SEGMENT",)),
    ("lot-over-60", _hl7("", lot="L" * 61), None, ("ELEMENT_TOO_LONG",)),
    ("every-message-bad", _dft(1, qty="1E400") + _dft(2, qty="0"), "ALL_MESSAGES_REJECTED", ()),
    ("empty", "", "EMPTY_FILE", ()),
]

# -- CSV -----------------------------------------------------------------------------------------------------
OR_HEADER = (
    "case_id,encounter_ref,used_at,vendor_item_number,gtin,lot,serial,quantity,unit_of_measure,unit_cost,"
    "department,procedure_code,implant_flag,consignment_flag\n"
)
OR_ROW = "CASE0001,V0001,20261124091000,SUT-SU-0210,10614141000170,,,{qty},BX,{cost},ORTHO,33208,N,N\n"


def _or(*rows: tuple[str, str]) -> str:
    return OR_HEADER + "".join(OR_ROW.format(qty=q, cost=c) for q, c in rows)


OR_CSV: list[tuple[str, bytes, str | None, tuple[str, ...]]] = [
    ("good", _or(("4", "14.20")).encode(), None, ()),
    ("cp1252-accent", (_or(("4", "14.20")).replace("ORTHO", "ORTH\u00c9")).encode("cp1252"), None, ()),
    ("quantity-exponent", _or(("4", "14.20"), ("1E2", "14.20")).encode(), None, ("BAD_NUMBER",)),
    ("quantity-sixteen-digits", _or(("4", "14.20"), ("1000000000000000", "1")).encode(), None, ("BAD_AMOUNT_SIZE",)),
    ("quantity-zero", _or(("4", "14.20"), ("0", "14.20")).encode(), None, ("BAD_QUANTITY",)),
    ("unit-cost-five-decimals", _or(("4", "14.20"), ("1", "14.20001")).encode(), None, ("BAD_NUMBER",)),
    ("quantity-full-width", _or(("4", "14.20"), ("\uff14", "14.20")).encode(), None, ("BAD_NUMBER",)),
    ("undefined-cp1252-byte-0x81", _or(("4", "14.20")).encode().replace(b"ORTHO", b"ORT\x81O"), "BAD_ENCODING", ()),
    ("undefined-cp1252-byte-0x8d", _or(("4", "14.20")).encode().replace(b"ORTHO", b"ORT\x8dO"), "BAD_ENCODING", ()),
    ("undefined-cp1252-byte-0x8f", _or(("4", "14.20")).encode().replace(b"ORTHO", b"ORT\x8fO"), "BAD_ENCODING", ()),
    ("undefined-cp1252-byte-0x90", _or(("4", "14.20")).encode().replace(b"ORTHO", b"ORT\x90O"), "BAD_ENCODING", ()),
    ("undefined-cp1252-byte-0x9d", _or(("4", "14.20")).encode().replace(b"ORTHO", b"ORT\x9dO"), "BAD_ENCODING", ()),
    ("nul-byte", _or(("4", "14.20")).encode().replace(b"ORTHO", b"ORT\x00O"), "NUL_BYTE", ()),
    # Found by the nightly property run: a UTF-8 byte-order mark was trusted without decoding the file.
    ("bom-then-nul", b"\xef\xbb\xbf\x00\xc2", "NUL_BYTE", ()),
    (
        "bom-then-bad-utf8",
        codecs.BOM_UTF8 + _or(("4", "14.20")).encode().replace(b"ORTHO", b"ORT\x80O"),
        "BAD_ENCODING",
        (),
    ),
    ("utf-16-with-bom", _or(("4", "14.20")).encode("utf-16"), None, ()),
    ("missing-columns", b"case_id,used_at\nCASE1,20261124\n", "MISSING_COLUMNS", ()),
    ("header-only", OR_HEADER.encode(), "NO_ROWS", ()),
    ("empty", b"", "EMPTY_FILE", ()),
    ("every-row-bad", _or(("0", "1"), ("1E2", "1")).encode(), "ALL_ROWS_REJECTED", ()),
    ("row-with-extra-field", (_or(("4", "14.20")) + "A,B\n").encode(), "BAD_ROW", ()),
]

BANK_HEADER = "deposit_date,bank_reference,originator_id,trace_number,amount,deposit_type\n"
BANK = [
    ("good", BANK_HEADER + "2026-11-24,BNK0001,1999999999,TRC0001,348.50,ACH\n", None),
    ("amount-exponent", BANK_HEADER + "2026-11-24,BNK0001,1999999999,TRC0001,3.485E2,ACH\n", "BAD_NUMBER"),
    ("amount-three-decimals", BANK_HEADER + "2026-11-24,BNK0001,1999999999,TRC0001,348.505,ACH\n", "BAD_AMOUNT_SCALE"),
    (
        "amount-sixteen-digits",
        BANK_HEADER + "2026-11-24,BNK0001,1999999999,TRC0001,1234567890123456,ACH\n",
        "BAD_AMOUNT_SIZE",
    ),
    ("date-invalid", BANK_HEADER + "2026-13-24,BNK0001,1999999999,TRC0001,348.50,ACH\n", "BAD_DATE"),
    ("header-only", BANK_HEADER, "NO_ROWS"),
]


def cases() -> Iterator[Case]:
    for name, mutate, reason in X835:
        yield Case(f"835/{name}", "remittance", f"{name}.835", mutate(B835).encode("utf-8", "surrogateescape"), reason)
    resend = B835.replace("000000101", "000000201")
    yield Case(
        "835/resent-payment-new-envelope",
        "remittance",
        "resend.835",
        resend.encode(),
        "DUPLICATE_REMITTANCE",
        prior=B835.encode(),
        inspect=False,
    )
    yield Case(
        "835/same-interchange-other-bytes",
        "remittance",
        "dup-isa.835",
        B835.replace("TRC0001", "TRC0009").encode(),
        "DUPLICATE_INTERCHANGE",
        prior=B835.encode(),
        inspect=False,
    )
    for name, mutate, reason in X277:
        yield Case(f"277/{name}", "claim_status", f"{name}.277", mutate(B277).encode(), reason)
    for name, mutate, reason in X999:
        yield Case(f"999/{name}", "payer_acks", f"{name}.999", mutate(B999).encode("utf-8", "surrogateescape"), reason)
    for name, text, reason, rejected in HL7:
        yield Case(f"hl7/{name}", "supply_usage", f"{name}.hl7", text.encode("utf-8"), reason, rejected)
    for name, data, reason, rejected in OR_CSV:
        yield Case(f"or-csv/{name}", "supply_usage", f"{name}.csv", data, reason, rejected)
    for name, text, reason in BANK:
        yield Case(f"bank-csv/{name}", "bank_deposits", f"{name}.csv", text.encode(), reason)


CASES = list(cases())


def status_candidates(count: int) -> list[dict]:
    """Claims for ``claim_status_277.write_277_files`` to answer: one payer, every fifth unpaid, every ninth
    denied."""
    return [
        {
            "payer": "1123456789",
            "pcn": f"PCN{n:09d}",
            "icn": f"ICN{n:010d}",
            "charge": "250.00",
            "paid": "180.00" if n % 5 else "0",
            "status": "1" if n % 9 else "4",
            "service_date": "20261101",
        }
        for n in range(count)
    ]
