"""The traffic looks like a real site's: heavy-tailed clients, bots, devices, the clock.

Ground truth for "who is a bot / which device" is the generator's own UA pools (each UA
string belongs to exactly one pool); ua-parser, which the ETL uses, is a second opinion.
Bands are wide enough for any seed and narrow enough to catch a broken distribution.
"""

from __future__ import annotations

import statistics
from collections import Counter
from functools import cache

import pytest
import ua_parser

from generator.bots import OPERATORS
from generator.useragents import human_agents
from tests.generator import reference
from tests.generator.conftest import Sample


def _logged(ua: str) -> str | None:
    return None if ua == "-" else reference.nginx_escape(ua.encode())


@cache
def human_devices() -> dict[str | None, str]:
    return {_logged(a.ua): a.device for a in human_agents()}


@cache
def bot_kinds() -> dict[str | None, tuple[str, str]]:
    """Logged UA -> (kind, device) for crawlers, monitors and scanners."""
    return {_logged(ua): (op.kind, op.device) for op in OPERATORS for ua, _ in op.agents}


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def test_ua_pools_do_not_overlap() -> None:
    assert not set(human_devices()) & set(bot_kinds())


def test_a_few_addresses_carry_much_of_the_traffic_and_most_are_rare(sample: Sample) -> None:
    records = sample.all_records()
    per_ip = Counter(r.client_ip for r in records)
    top = per_ip.most_common(max(1, len(per_ip) // 100))
    assert _share(sum(c for _, c in top), len(records)) >= 0.3
    # "Many rare": most addresses are seen a handful of times at most.
    assert _share(sum(1 for c in per_ip.values() if c <= 2), len(per_ip)) >= 0.35
    assert len(per_ip) >= len(records) // 20


def test_every_line_comes_from_a_known_pool(sample: Sample) -> None:
    known = set(human_devices()) | set(bot_kinds())
    assert {r.user_agent for r in sample.all_records()} <= known


def test_bot_share_is_in_a_realistic_band(sample: Sample) -> None:
    records = sample.all_records()
    bots = bot_kinds()
    automated = [r for r in records if r.user_agent in bots]
    crawlers = [r for r in automated if bots[r.user_agent][0] == "crawler"]
    assert 0.22 <= _share(len(automated), len(records)) <= 0.36
    assert 0.15 <= _share(len(crawlers), len(records)) <= 0.3
    # What the ETL's UA parser calls a spider: crawlers and monitors, mostly.
    spiders = sum(1 for r in records if _parsed_family(r.user_agent) == "Spider")
    assert 0.12 <= _share(spiders, len(records)) <= 0.32


@cache
def _parsed_family(ua: str | None) -> str | None:
    if ua is None:
        return None
    device = ua_parser.parse(ua).device
    return device.family if device else None


def test_crawlers_are_among_the_busiest_addresses(sample: Sample) -> None:
    records = sample.all_records()
    bots = bot_kinds()
    crawler_ips = {
        r.client_ip for r in records if r.user_agent in bots and bots[r.user_agent][0] == "crawler"
    }
    top10 = [ip for ip, _ in Counter(r.client_ip for r in records).most_common(10)]
    assert 2 <= sum(ip in crawler_ips for ip in top10) <= 8  # humans too
    # Crawler addresses are the operators' published ranges, never a human's.
    human_ips = {r.client_ip for r in records if r.user_agent in human_devices()}
    assert not crawler_ips & human_ips


def test_desktop_mobile_and_tablet_all_present_in_a_plausible_mix(sample: Sample) -> None:
    devices = human_devices()
    counts = Counter(devices[r.user_agent] for r in sample.all_records() if r.user_agent in devices)
    total = sum(counts.values())
    assert 0.3 <= _share(counts["desktop"], total) <= 0.5
    assert 0.45 <= _share(counts["mobile"], total) <= 0.62
    assert 0.03 <= _share(counts["tablet"], total) <= 0.1


def test_real_devices_and_browsers_are_recognised_by_a_ua_parser(sample: Sample) -> None:
    agents = {r.user_agent for r in sample.all_records() if r.user_agent in human_devices()}
    assert 300 <= len(agents) <= 3000
    parsed = [ua_parser.parse(ua) for ua in agents]
    brands = {p.device.brand for p in parsed if p.device}
    families = {p.device.family for p in parsed if p.device}
    browsers = {p.user_agent.family for p in parsed if p.user_agent}
    assert {"Samsung", "Google", "Apple"} <= brands
    assert {"iPhone", "iPad"} <= families
    assert any(f.startswith("Pixel") for f in families)
    assert {
        "Chrome",
        "Firefox",
        "Safari",
        "Edge",
        "Samsung Internet",
        "Chrome Mobile",
        "Mobile Safari",
        "Chrome Mobile iOS",
    } <= browsers
    assert all(p.device is None or p.device.family != "Spider" for p in parsed)


def test_crawler_agents_are_spiders_to_a_ua_parser() -> None:
    for op in OPERATORS:
        if op.kind == "crawler" and op.name != "Bytespider":  # ua-parser misses Bytespider
            for ua, _ in op.agents:
                assert _parsed_family(ua) == "Spider", ua


def test_ipv6_clients_are_a_sizeable_minority(sample: Sample) -> None:
    records = sample.all_records()
    human_ips = {r.client_ip for r in records if r.user_agent in human_devices()}
    assert 0.15 <= _share(sum(":" in ip for ip in human_ips), len(human_ips)) <= 0.45
    assert any(r.client_ip.startswith("2001:4860:4801:") for r in records)  # Googlebot v6


def test_humans_follow_the_clock_and_crawlers_do_not(sample: Sample) -> None:
    records = sample.all_records()
    devices, bots = human_devices(), bot_kinds()
    human = Counter(r.event_time_utc.hour for r in records if r.user_agent in devices)
    crawler = Counter(
        r.event_time_utc.hour
        for r in records
        if r.user_agent in bots and bots[r.user_agent][0] == "crawler"
    )
    assert len(human) == 24
    assert max(human.values()) >= 4 * min(human.values())
    quietest, busiest = min(human, key=human.__getitem__), max(human, key=human.__getitem__)
    assert 1 <= quietest <= 6 and 17 <= busiest <= 22  # night vs evening, server at +0000
    assert max(crawler.values()) <= 1.5 * min(crawler.values())


def test_status_mix(sample: Sample) -> None:
    records = sample.all_records()
    status = Counter(r.status for r in records)
    n = len(records)
    assert 0.7 <= status[200] / n <= 0.88
    assert 0.05 <= status[304] / n <= 0.15
    assert 0.02 <= status[404] / n <= 0.1
    for code in (301, 302, 499, 500, 503):
        assert status[code] > 0, code
    assert sum(c for s, c in status.items() if s >= 500) / n < 0.02


def test_sizes_depend_on_what_was_requested(sample: Sample) -> None:
    records = sample.all_records()
    by_asset: dict[str, set[int]] = {}
    for r in records:
        if r.status == 200 and r.path and r.path.startswith(("/static/", "/images/")):
            by_asset.setdefault(r.path, set()).add(r.body_bytes)
    assert len(by_asset) > 100
    assert all(len(sizes) == 1 for sizes in by_asset.values())  # a file has one size
    assert all(r.body_bytes == 0 for r in records if r.status in (204, 304))
    assert all(r.body_bytes == 0 for r in records if r.method == "HEAD")

    def median(prefix: str) -> float:
        return statistics.median(
            r.body_bytes
            for r in records
            if r.status == 200 and r.path and r.path.startswith(prefix)
        )

    assert median("/static/js/") > median("/products/") > median("/api/") > median("/robots")
    assert {r.body_bytes for r in records if r.status == 404} >= {153, 5840}


def test_referrers_query_strings_and_users(sample: Sample) -> None:
    records = sample.all_records()
    n = len(records)
    referrers = Counter(r.referrer for r in records)
    internal = sum(
        c for ref, c in referrers.items() if ref and ref.startswith("https://www.example.com/")
    )
    assert 0.3 <= internal / n <= 0.7
    assert 0.2 <= referrers[None] / n <= 0.6
    assert referrers["https://www.google.com/"] > 0
    assert 0.05 <= sum(1 for r in records if r.path and "?" in r.path) / n <= 0.3
    users = [r.remote_user for r in records if r.remote_user]
    assert 0.0001 <= len(users) / n <= 0.03
    assert len(set(users)) >= 2


@pytest.mark.parametrize("kind", ["crawler", "monitor", "scanner"])
def test_each_kind_of_automated_client_shows_up(sample: Sample, kind: str) -> None:
    bots = bot_kinds()
    assert any(r.user_agent in bots and bots[r.user_agent][0] == kind for r in sample.all_records())
