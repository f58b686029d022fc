"""The reader's fast path for plain messages (no repetition, subcomponent or escape character past MSH-2)
maps every message exactly as the general path does, leaf by leaf, and is never taken for another message.

The messages are generated: FT1, ZIM, PRT, PID and PV1 fields drawn from values that are plain, or carry
components, repetitions, subcomponents or escape sequences, or are empty or missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revcycle.hl7.dft import map_dft
from revcycle.hl7.reader import HL7Error, Message, read_text

PLAIN = st.sampled_from(["", "A1", "12", "2.50", "3", "20261124", "10614141000125", "Y", "n", " 7 ", "X-1.2"])
SPECIAL = st.sampled_from(
    ["A^B^C", "1~2", "2.50&USD", "A\\F\\B", "\\E\\", "M1^^^SYNTH^MR", "20261124^x", "~", "&", "^", "1.005", "x\\"]
)
FIELD = st.one_of(PLAIN, PLAIN, SPECIAL)


def segment(name: str, width: int) -> st.SearchStrategy[str]:
    return st.lists(FIELD, min_size=0, max_size=width).map(lambda fields: "|".join([name, *fields]))


MESSAGE = st.lists(
    st.one_of(segment("PID", 4), segment("PV1", 20), segment("FT1", 27), segment("ZIM", 9), segment("PRT", 21)),
    min_size=1,
    max_size=6,
).map(lambda segs: "\r".join(["MSH|^~\\&|A|B|C|D|20261124||DFT^P03|X1|P|2.5.1", "PID|1||M1", *segs]))


def mapped(msg: Message) -> object:
    try:
        return map_dft(msg)
    except HL7Error as exc:
        return (exc.reason, exc.location, str(exc))


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(MESSAGE)
def test_the_plain_path_maps_as_the_general_path(text):
    (msg,) = read_text(text)
    assert isinstance(msg, Message)
    tail = text.split("|", 2)[2]  # past MSH-1 and MSH-2
    assert msg.plain == (not any(c in tail for c in "~&\\"))
    general = dataclasses.replace(msg, plain=False)
    for seg in msg.segments:
        assert msg.leaves(seg, 30) == general.leaves(seg, 30) == [msg.value(f) for f in seg] + [""] * (30 - len(seg))
    assert mapped(msg) == mapped(general)


def test_the_fast_path_would_be_wrong_on_a_message_that_is_not_plain():
    """The flag matters: the same message read as plain would keep a repetition and an escape sequence."""
    (msg,) = read_text("MSH|^~\\&|A|B|C|D|20261124||DFT^P03|X1|P|2.5.1\rPID|1||M1~M2\rFT1|1|T\\F\\1||20261124||CG|I1")
    assert not msg.plain
    row = map_dft(msg)[0]
    wrong = map_dft(dataclasses.replace(msg, plain=True))[0]
    assert (row["transaction_id"], row["transaction_date"]) == ("T|1", dt.date(2026, 11, 24))
    assert wrong["transaction_id"] == "T\\F\\1" and wrong["patient_token"] != row["patient_token"]


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(FIELD, min_size=1, max_size=4).map("^".join))
def test_components_are_the_values_of_each_component(raw):
    (msg,) = read_text(f"MSH|^~\\&|A|B|C|D|20261124||DFT^P03|X1|P|2.5.1\rFT1|1|{raw}")
    general = dataclasses.replace(msg, plain=False)
    expected = [msg.value(raw, c) for c in range(1, 6)]
    assert msg.components(raw, 5)[:5] == general.components(raw, 5)[:5] == expected


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(MESSAGE)
def test_a_leaf_is_the_value_of_its_field(text):
    (msg,) = read_text(text)
    general = dataclasses.replace(msg, plain=False)
    for seg in msg.segments:
        for n in range(len(seg) + 2):
            assert msg.leaf(seg, n) == general.leaf(seg, n) == (msg.value(seg[n]) if n < len(seg) else "")
