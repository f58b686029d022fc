"""One bench's section of bench/RESULTS.md, written between its markers (added at the end the first time)."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(marker: str, title: str, text: str) -> None:
    body = RESULTS.read_text()
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    block = f"{begin}\n{text}\n{end}"
    if begin in body:
        body = body.split(begin)[0] + block + body.split(end, 1)[1]
    else:
        body = body.rstrip("\n") + f"\n\n## {title}\n\n" + block + "\n"
    RESULTS.write_text(body)
