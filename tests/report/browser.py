"""Headless Chromium from Debian (/usr/bin/chromium), driven by Playwright, offline.

Playwright never downloads a browser here: it is pointed at the system Chromium. The flags
stop Chromium's own background traffic (component updates, sync, field trials), which the
closed network would refuse anyway; every request the page makes is recorded and anything
that is not file:// is aborted, so a test sees a fetch attempt instead of a timeout.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",  # root in CI; the page is our own static file
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Visit:
    page: Any  # playwright.sync_api.Page
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)  # alert/confirm/prompt: a script ran


def chromium_path() -> Path | None:
    found = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    return Path(found) if found else None


@contextmanager
def open_page(
    path: Path, profile: Path, *, width: int = 1400, height: int = 900
) -> Iterator[Visit]:
    """Open `path` (file://) in a fresh profile; yields the page and what it logged/fetched."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    assert executable, "Chromium not found: apt-get install -y --no-install-recommends chromium"
    with sync_playwright() as playwright:
        # A persistent context on a fresh directory = Chromium's --user-data-dir.
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            args=FLAGS,
            viewport={"width": width, "height": height},
            device_scale_factor=1,
            offline=True,
        )
        try:
            page = context.new_page()
            visit = Visit(page)
            page.on(
                "console",
                lambda m: visit.console_errors.append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda exc: visit.console_errors.append(str(exc)))

            def dialog(d: Any) -> None:
                visit.dialogs.append(d.message)
                d.dismiss()

            page.on("dialog", dialog)

            def guard(route: Any) -> None:
                url = route.request.url
                visit.requests.append(url)
                if url.startswith("file://"):
                    route.continue_()
                else:
                    route.abort()

            context.route("**/*", guard)
            page.goto(path.resolve().as_uri(), wait_until="load")
            yield visit
        finally:
            context.close()
