"""Traffic written by strangers, through the whole ETL and onto the page.

Two promises about text nobody controls but the sender (docs/user-agents.md,
docs/report-page.md):

* automated clients stay out of the `human` top list, even when each of them sends more
  requests than any person, so that a misclassified one would rank first;
* a path, referrer or User-Agent carrying `<script>`, `onerror=`, `javascript:` or `</svg>`
  is shown as the text it is and never runs, in a real browser.

One day of hand-written lines, one ETL run on its own catalog.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.report.browser import chromium_path, open_page

pytestmark = [pytest.mark.spark, pytest.mark.slow]

STAMP = "07/Oct/2024:{hour:02d}:{minute:02d}:00 +0000"
DAY = "2024-10-07"
TOP_N = 50  # every client of the day is ranked, so the segments can be compared whole

ANDROID = "Mozilla/5.0 (Linux; Android 13; {model}) AppleWebKit/537.36 (KHTML, like Gecko) "
CHROME_MOBILE = "Chrome/119.0.0.0 Mobile Safari/537.36"
# People: three requests each.
HUMANS = {
    "192.0.2.1": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "192.0.2.2": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "192.0.2.3": "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
}
# Automated clients of every kind: ten requests each, more than any person.
AUTOMATED = {
    "203.0.113.1": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "203.0.113.2": "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "203.0.113.3": "Mozilla/5.0 (compatible; Ezooms/1.0; help@moz.com)",
    "203.0.113.4": "Mozilla/5.0 (compatible; archive.org_bot; Wayback Machine Live Record; "
    "+http://archive.org/details/archive.org_bot)",
    "203.0.113.5": "Feedfetcher-Google; (+http://www.google.com/feedfetcher.html; "
    "5 subscribers; feed-id=4712391)",
    "203.0.113.6": "UniversalFeedParser/5.2.1 +https://code.google.com/p/feedparser/",
    "203.0.113.7": "Tiny Tiny RSS/20.08 (http://tt-rss.org/)",
    "203.0.113.8": "curl/8.5.0",
    "203.0.113.9": "Wget/1.21.4",
    "203.0.113.10": "python-requests/2.31.0",
    "203.0.113.11": "Go-http-client/1.1",
    "203.0.113.12": "okhttp/4.12.0",
    "203.0.113.13": "Java/1.8.0_45",
    "203.0.113.14": "libwww-perl/6.49",
    "203.0.113.15": "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "203.0.113.16": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "203.0.113.17": "Twitterbot/1.0",
    "203.0.113.18": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "203.0.113.19": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.0.0 Safari/537.36",
    "203.0.113.20": "-",
    "203.0.113.21": "Mozilla/5.0",
}
# Payloads in the phone-model slot of a real Android Chrome User-Agent: ua-parser reports
# the slot as the device, so the page's device charts carry the text as sent.
HOSTILE_IP = "198.51.100.66"
HOSTILE_DEVICES = (
    "<img src=x onerror=alert(1)>",
    "</svg><script>alert(2)</script>",
    "javascript:alert(3)",
)
HOSTILE_PATHS = (
    "/search?q=<script>alert(4)</script>",
    "/<img/src=x/onerror=alert(5)>",
    "/go?to=javascript:alert(6)",
    "/</svg><svg/onload=alert(7)>",
    "/<script>alert(10)</script>",
    "/javascript:alert(11)",
    "/%3Cscript%3Ealert(12)%3C/script%3E",  # percent-decoded by the top-paths report
)
# How the top-paths report shows them: query string removed, percent-decoding undone.
SHOWN_PATHS = (
    "/<img/src=x/onerror=alert(5)>",
    "/</svg><svg/onload=alert(7)>",
    "/<script>alert(10)</script>",
    "/javascript:alert(11)",
    "/<script>alert(12)</script>",
)
# The referrer reports show the URL's host: payloads there reach the page; a `javascript:`
# URL has no host and is left out.
HOSTILE_REFERRERS = (
    "javascript:alert(8)//</svg><script>alert(9)</script>",
    "http://<img src=x onerror=alert(13)>.example/",
    "https://<svg onload=alert(14)>/x",
)
SHOWN_REFERRERS = ("<img src=x onerror=alert(13)>.example", "<svg onload=alert(14)>")


def _line(ip: str, n: int, agent: str, path: str = "/", referrer: str = "-") -> str:
    stamp = STAMP.format(hour=8 + n // 60, minute=n % 60)
    return f'{ip} - - [{stamp}] "GET {path} HTTP/1.1" 200 512 "{referrer}" "{agent}"'


def _lines() -> list[str]:
    lines = [_line(ip, n, ua) for ip, ua in HUMANS.items() for n in range(3)]
    lines += [_line(ip, n, ua) for ip, ua in AUTOMATED.items() for n in range(10)]
    for n, device in enumerate(HOSTILE_DEVICES):
        agent = ANDROID.format(model=device) + CHROME_MOBILE
        lines += [
            _line(HOSTILE_IP, n, agent, path, HOSTILE_REFERRERS[i % len(HOSTILE_REFERRERS)])
            for i, path in enumerate(HOSTILE_PATHS)
        ]
    return lines


@dataclass(frozen=True)
class Warehouse:
    settings: Any
    page: Path


@pytest.fixture(scope="module")
def warehouse(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    from core import runtimes
    from core.settings import CatalogSettings
    from report_page import write_report_page
    from spark.job import run_etl
    from spark.session import attach_catalog

    root = tmp_path_factory.mktemp("untrusted")
    base = runtimes.embedded(root)
    settings = base.model_copy(
        update={
            "catalog": CatalogSettings(
                kind=base.catalog.kind, uri=base.catalog.uri, name="t_untrusted"
            ),
            "etl": base.etl.model_copy(update={"top_n": TOP_N}),
        }
    )
    attach_catalog(spark, settings)
    source = Path(settings.storage.input_uri.removeprefix("file://")) / f"dt={DAY}/web.log.gz"
    source.parent.mkdir(parents=True)
    with gzip.open(source, "wt", encoding="utf-8") as out:
        out.write("\n".join(_lines()) + "\n")
    run = run_etl(settings, spark=spark)
    assert (run.outcome, run.rejected) == ("succeeded", 0), run.error
    yield Warehouse(settings, write_report_page(settings, root / "report.html"))


def _top_ips(settings: Any, segment: str) -> set[str]:
    from readers import report_view

    rows = report_view.load(settings, "daily_top_ips", None, segment, all_periods=True)
    return {r["client_ip"] for r in rows}


def test_the_human_top_list_holds_only_people(warehouse: Warehouse) -> None:
    people = {*HUMANS, HOSTILE_IP}  # the hostile User-Agents are Chrome on Android phones
    assert _top_ips(warehouse.settings, "human") == people
    assert _top_ips(warehouse.settings, "bot") == set(AUTOMATED)
    assert _top_ips(warehouse.settings, "all") == people | set(AUTOMATED)


def test_hostile_text_is_shown_as_written_and_never_runs(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    if chromium_path() is None:
        message = "Chromium missing: apt-get install -y --no-install-recommends chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with open_page(warehouse.page, tmp_path / "profile") as visit:
        page = visit.page
        text = page.evaluate("document.documentElement.textContent")
        for device in HOSTILE_DEVICES:
            assert f"{device} (mobile)" in text, device
        # Paths and referrer hosts, in the sections of the report tables, as written.
        paths = page.locator('[data-section="daily-top-paths"] .variant:visible text.label')
        assert set(SHOWN_PATHS) <= set(paths.all_text_contents())
        hosts = page.locator('[data-section="daily-top-referrers"] .variant:visible text.label')
        assert sorted(hosts.all_text_contents()) == sorted(SHOWN_REFERRERS)
        not_found = page.locator('[data-section="daily-not-found"]')
        assert not_found.locator("p.empty").text_content() == "no data yet"  # every line is 200
        # The page's own script is the only one, and it runs (the CSP names it by hash):
        # picking a segment shows that segment's variant.
        assert page.locator("script").count() == 1
        card = page.locator('[data-chart="daily-top-ips"]')
        card.locator('select[name="segment"]').select_option("human")
        assert card.locator(".variant:visible").get_attribute("data-segment") == "human"
        handlers = page.evaluate(
            "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
            ".filter(a => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value))"
            ".map(a => a.name + '=' + a.value)"
        )
        assert handlers == []
    assert visit.dialogs == []
    assert visit.console_errors == []
    assert visit.requests == [warehouse.page.resolve().as_uri()]
