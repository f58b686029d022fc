"""Pages in a real browser: Debian's chromium driven by Playwright through ``executable_path`` (the project never
runs ``playwright install``), with screenshots kept as test artefacts under ``test-artifacts/<test>/`` (or
``$REVCYCLE_TEST_ARTIFACTS``) so a reviewer can look at what the test saw."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not installed (.ci/run installs Debian's chromium; apt-get install chromium)"
)


def artefacts(request: pytest.FixtureRequest) -> Path:
    root = Path(os.environ.get("REVCYCLE_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))
    folder = root / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@contextmanager
def chromium_page(width: int = 1280, height: int = 900) -> Iterator:
    """A fresh page of a headless chromium at the given viewport; console errors are collected on it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.console_errors = []
            page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
            page.on("pageerror", lambda e: page.console_errors.append(str(e)))
            yield page
        finally:
            browser.close()
