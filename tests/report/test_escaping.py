"""Every string on the page that a client or an operator could have written stays text.

The page is rendered from hand-made `PageData` whose every free-text field carries markup,
then parsed back with the standard library's HTML parser: the only script is the page's
own, no element gains an event handler or a `javascript:` value, and each payload comes
back, unescaped by the parser, as the text it was. The Content-Security-Policy allows that
one script by hash and nothing inline besides.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from html.parser import HTMLParser

from report_page.changes import Mover
from report_page.data import Latency, PageData, Ranked
from report_page.render import render_page
from tests.report.page_reader import read_page

DAY = date(2024, 10, 8)
PAYLOADS = (
    '<script>alert("s")</script>',
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(2)",
    "</svg><svg onload=alert(3)>",
    "' onmouseover='alert(4)",
)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


def _hostile_page() -> str:
    now = datetime(2024, 10, 8, 12, tzinfo=UTC)
    bars = [Ranked(i + 1, p, 10 - i, p, "human") for i, p in enumerate(PAYLOADS)]
    devices = [Ranked(i + 1, f"{p} (bot)", 10 - i, "10%", "bot") for i, p in enumerate(PAYLOADS)]
    # Paths, referrer hosts and families of the newer report tables carry payloads too.
    status = (("2xx", 5), ("3xx", 1), ("4xx", 1), ("499", 1), ("5xx", 1))
    paths = [Ranked(i + 1, p, 10, "1 KB", "all", status) for i, p in enumerate(PAYLOADS)]
    moved = [Mover(p, i + 1, 10, None, None) for i, p in enumerate(PAYLOADS)]
    timed = [
        Latency(DAY, i, None if i == 0 else PAYLOADS[i - 1], 10, 1, 2, 3, 4, 1, 2, 0.5)
        for i in range(len(PAYLOADS) + 1)
    ]
    data = PageData(
        generated_at=now,
        runtime="embedded",
        warehouse=PAYLOADS[3],
        latest_day=DAY,
        window_start=DAY,
        per_day=[(DAY, 5)],
        device_share=[(p, 1) for p in PAYLOADS],
        rejected_by_reason=[(p, 1) for p in PAYLOADS],
        daily_top_ips={(DAY, "all"): bars},
        weekly_top_ips={(DAY, "bot"): bars},
        daily_top_devices={(DAY, "all"): devices},
        path_movers=(DAY, DAY - timedelta(days=1), moved),
        ip_movers=(DAY, DAY - timedelta(days=1), moved),
        daily_top_paths={(DAY, "all"): paths},
        weekly_top_paths={(DAY, "bot"): paths},
        daily_not_found={(DAY, "all"): bars},
        daily_referrers={(DAY, "all"): bars},
        weekly_referrers={(DAY, "human"): bars},
        daily_software={(DAY, "browser"): bars, (DAY, "os"): bars},
        daily_latency=timed[:1],
        weekly_latency=timed[:1],
        daily_path_latency={(DAY, "all"): timed[1:]},
        runs=[
            {
                "run_id": PAYLOADS[0],
                "outcome": PAYLOADS[4],
                "started_at": now,
                "seconds": 1.0,
                "input_files": 1,
                "input_bytes": 10,
                "lines_read": 5,
                "accepted": 5,
                "rejected": 0,
                "error": PAYLOADS[1],
            }
        ],
    )
    return render_page(data)


def test_payloads_come_back_as_text_and_add_no_markup() -> None:
    page = _Collector()
    page.feed(_hostile_page())
    assert page.tags.count("script") == 1
    assert "img" not in page.tags
    assert not [n for n, _ in page.attributes if n.startswith("on")]
    assert not [v for _, v in page.attributes if v.strip().lower().startswith("javascript:")]
    text = "".join(page.text)
    for payload in PAYLOADS:
        assert payload in text, payload
    assert "alert" not in "".join(page.scripts)


def test_the_policy_allows_the_pages_own_script_by_hash_and_no_inline_code() -> None:
    html = _hostile_page()
    policy = re.search(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', html)
    assert policy, "no Content-Security-Policy"
    content = unescape(policy.group(1))
    directives = dict(d.strip().split(" ", 1) for d in content.split(";"))
    assert directives["default-src"] == "'none'"
    assert "unsafe-inline" not in content
    # The hash of the text between <script> and </script>, computed here independently.
    script = re.search(r"<script>(.*?)</script>", html, re.DOTALL)
    assert script
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert directives["script-src"] == f"'sha256-{digest}'"


def test_each_report_section_shows_every_payload_as_text() -> None:
    sections = read_page(_hostile_page()).sections
    for name in (
        "path-movers",
        "ip-movers",
        "daily-top-paths",
        "weekly-top-paths",
        "daily-not-found",
        "daily-top-referrers",
        "weekly-top-referrers",
        "daily-software",
        "latency-per-path",
    ):
        section = sections[name]
        shown = [t for texts in section.texts.values() for ts in texts.values() for t in ts]
        shown += [cell for rows in section.rows.values() for row in rows for cell in row]
        shown += section.tooltips
        for payload in PAYLOADS:
            assert any(payload in t for t in shown), (name, payload)


def test_nothing_is_styled_inline() -> None:
    page = _Collector()
    page.feed(_hostile_page())
    assert "style" not in {name for name, _ in page.attributes}
    assert page.tags.count("style") == 1  # the page's own, allowed by hash
