"""Device classification from the User-Agent, done once per distinct string.

A batch has millions of lines but a few thousand distinct User-Agents, so the strings are
classified on the driver and the small result is broadcast-joined back. No per-row Python
UDF.

Two sources decide, because neither is enough alone (docs/user-agents.md):

* the `crawler-user-agents` list (about 1,500 maintained patterns for crawlers, SEO and
  archive bots, feed readers, monitors, link-preview fetchers, HTTP libraries, headless
  browsers), compiled once per process into one matcher on ua-parser's Rust engine;
* ua-parser, which names the browser, OS and device of everything else.

Device types, and what they mean for the report segments:

* `desktop`, `mobile`, `tablet`: a browser ua-parser recognises on an OS it recognises, and
  no automation marker. These, and only these, are the `human` segment.
* `bot`: a client known to be automated (listed pattern, ua-parser "Spider", or one of a
  few generic markers such as `crawl`, `java/`, `Dalvik/`).
* `other`: neither: no User-Agent at all, or a string naming no known browser/OS and no
  known bot (`UniversalFeedParser/5.2`, `Mozilla/5.0`, a scanner's invention).

The segments stay `all`/`human`/`bot`, with `bot` meaning "not a person in a recognised
browser" (`bot` and `other` devices). A separate `unknown` segment was considered and left
out: on real logs the unidentified strings are scripts, feed parsers, scanners and requests
with no User-Agent, i.e. automation the list does not name yet; a third top list would
mostly repeat the bot list with less certain labels, while the question the split answers
("who are the people on my site?") only needs a strict `human`. The device reports keep the
distinction (`bot` vs `other`) for whoever wants to look.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import crawleruseragents
import ua_parser
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StringType, StructField, StructType
from ua_parser import Domain
from ua_parser.matchers import UserAgentMatcher
from ua_parser.regex import Resolver

from spark.frames import local_frame

HUMAN_DEVICE_TYPES = ("desktop", "mobile", "tablet")
DEVICE_TYPES = (*HUMAN_DEVICE_TYPES, "bot", "other")

# The listed patterns, in list order. They are written case-sensitive (e.g. "[wW]get").
_LISTED = tuple(entry["pattern"] for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA)


@cache
def _crawlers() -> Resolver:
    """All listed patterns as one matcher, built once per process (about a second).

    ua-parser's Rust engine (the `regex` extra) prefilters on the patterns' literal parts
    and runs only the candidates: ~0.1 ms per User-Agent, against ~5 ms for one Python
    alternation of the same 1,500 patterns. Each pattern's "family" is its list index.
    """
    matchers = [UserAgentMatcher(pattern, str(i)) for i, pattern in enumerate(_LISTED)]
    return Resolver((matchers, [], []))


def _listed(user_agent: str) -> str | None:
    """What the first matching listed pattern matched; None if no pattern matches."""
    found = _crawlers()(user_agent, Domain.USER_AGENT).user_agent
    if found is None:
        return None
    pattern = _LISTED[int(found.family)]
    # Python's re finds the matched text; should its dialect ever disagree with Rust's,
    # the client is still listed, named by the pattern.
    match = re.search(pattern, user_agent)
    return match.group(0) if match else pattern


# Automation the list does not name (yet): generic words, runtimes' default agents, a
# contact URL or e-mail address, and a name added to "(KHTML, like Gecko; ...)": things
# bots carry and browsers never do.
_AUTOMATION_MARKERS = re.compile(
    r"https?://|www\.|@\w[\w-]*\.\w|"
    r"bot\b|bot/|crawl|spider|scrape|feedparser|feed ?fetch|\brss\b|"
    r"^java/|^dalvik/|^cfnetwork/|http-?client|libwww|headless|check_http|monitor|uptime|"
    r"preview|like gecko;",
    re.IGNORECASE,
)
_TABLET_PATTERN = re.compile(
    r"ipad|tablet|kindle|silk/|playbook|sm-t\d|sm-x\d|tab\b", re.IGNORECASE
)
_DESKTOP_OS = {"Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Chrome OS", "FreeBSD", "Debian"}
_MOBILE_OS = {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "HarmonyOS"}
# A product token, "Name/1.2" (up to four words: "Tiny Tiny RSS/20.08").
_PRODUCT = re.compile(r"\b([A-Za-z][\w.!-]*(?: [A-Za-z][\w.!-]*){0,3})/v?\d")
# Where clients put their own name: "(compatible; Name/1.0; +url)", or inside WebKit's
# "(KHTML, like Gecko; Name)", which a browser leaves as just "(KHTML, like Gecko)".
# "compatible; MSIE 9.0; ..." is an old browser's token, not a bot's name; nor is a URL.
_ANNOUNCED = re.compile(r"(?:compatible|like Gecko); *(?!MSIE|https?:|compatible)([A-Za-z][^;)/]*)")
_NOT_PRODUCTS = {"Mozilla", "AppleWebKit", "KHTML", "Gecko", "Version", "Mobile", "Safari"}
_LABEL_CHARS = re.compile(r"[A-Za-z0-9][\w .!-]*[\w!]|[A-Za-z0-9]")
_LABEL_MAX = 48

_FROZEN_MODELS = {"K"}

DEVICE_SCHEMA = StructType(
    [
        StructField("user_agent", StringType(), nullable=False),
        StructField("device_type", StringType(), nullable=False),
        StructField("device", StringType(), nullable=False),
        StructField("os", StringType(), nullable=True),
        StructField("browser", StringType(), nullable=True),
    ]
)


@dataclass(frozen=True)
class Device:
    device_type: str
    device: str
    os: str | None
    browser: str | None


UNKNOWN = Device("other", "Unknown", None, None)


def _known(family: str | None) -> str | None:
    return family if family and family != "Other" else None


def _device_label(family: str | None, brand: str | None) -> str | None:
    """'Google Pixel 8', 'Samsung SM-S911B', 'iPhone'; None when ua-parser knows no model."""
    # Chrome's reduced User-Agent says "Android 10; K": the model is frozen to "K".
    if not _known(family) or family.startswith("Generic") or family in _FROZEN_MODELS:
        return None
    if (
        brand
        and not brand.startswith("Generic")
        and brand != "Apple"
        and not family.startswith(brand)
    ):
        return f"{brand} {family}"
    return family


def _clean(text: str) -> str | None:
    """The readable core of a name ('Googlebot/' -> 'Googlebot'), at most _LABEL_MAX long."""
    found = _LABEL_CHARS.search(text)
    return found.group(0)[:_LABEL_MAX].strip() if found else None


def _product(user_agent: str) -> str | None:
    """The product token a client names itself by: 'Feedfetcher-Google', 'Ezooms'."""
    for found in _PRODUCT.finditer(user_agent):
        if found.group(1) not in _NOT_PRODUCTS:
            return _clean(found.group(1))
    return _clean(re.split(r"[;(/]", user_agent, maxsplit=1)[0])


def _automated_label(user_agent: str, listed: str | None, browser: str | None) -> str:
    """A clean name for an automated client.

    Bots announce themselves as "(compatible; Name/1.0; +url)"; failing that, the text the
    list matched ('Feedfetcher-Google', 'HeadlessChrome'), then the first product token.
    ua-parser's family alone is a poor name for bots ('com/bot', 'crawler'), but where it
    names the same product its spelling wins ('python-requests' -> 'Python Requests').
    """
    announced = _ANNOUNCED.search(user_agent)
    name = _clean(announced.group(1)) if announced else None
    if not name and listed and (matched := _clean(listed)) and len(matched) >= 3:
        name = matched
    name = name or _product(user_agent)
    if browser and (name is None or _squashed(browser) == _squashed(name)):
        return browser
    return name or "Unknown"


def _squashed(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def classify(user_agent: str | None) -> Device:
    """Device type, a readable device label, OS and browser family of one User-Agent."""
    if not user_agent or user_agent == "-":
        return UNKNOWN
    result = ua_parser.parse(user_agent).with_defaults()
    browser, os_family = _known(result.user_agent.family), _known(result.os.family)
    listed = _listed(user_agent)
    if (
        listed is not None
        or result.device.family == "Spider"
        or _AUTOMATION_MARKERS.search(user_agent)
    ):
        return Device("bot", _automated_label(user_agent, listed, browser), os_family, browser)
    specific_device = _device_label(result.device.family, result.device.brand)
    # A feature phone's Opera Mini names its handset, not its OS (J2ME): the model will do.
    if browser is None or (os_family is None and specific_device is None):
        # Not a browser we know on an OS or device we know, and not a known bot either.
        label = _product(user_agent) or browser or "Unknown"
        return Device("other", label, os_family, browser)
    is_tablet = bool(_TABLET_PATTERN.search(user_agent)) or (
        os_family == "Android" and "Mobile" not in user_agent
    )
    if is_tablet:
        return Device(
            "tablet", specific_device or f"{os_family or 'Unknown'} tablet", os_family, browser
        )
    if os_family in _MOBILE_OS or os_family is None or "Mobile" in user_agent:
        return Device(
            "mobile", specific_device or f"{os_family or 'Unknown'} phone", os_family, browser
        )
    if os_family in _DESKTOP_OS:
        return Device("desktop", f"{os_family} desktop", os_family, browser)
    return Device("other", specific_device or browser, os_family, browser)


def device_table(spark: SparkSession, user_agents: Iterable[str]) -> DataFrame:
    """A small DataFrame (user_agent -> device columns) for a broadcast join."""
    rows = []
    for ua in user_agents:
        d = classify(ua)
        rows.append((ua, d.device_type, d.device, d.os, d.browser))
    return local_frame(spark, rows, DEVICE_SCHEMA)
