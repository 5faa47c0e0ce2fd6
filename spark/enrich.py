"""Device classification from the User-Agent, done once per distinct string.

A batch has millions of lines but a few thousand distinct User-Agents, so the strings are
classified on the driver with ua-parser (Rust-backed: ~20 µs each) and the small result
is broadcast-joined back. No per-row Python UDF.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import ua_parser
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StringType, StructField, StructType

from spark.frames import local_frame

DEVICE_TYPES = ("desktop", "mobile", "tablet", "bot", "other")

# Crawlers, monitors and HTTP libraries that ua-parser does not mark as "Spider".
_BOT_PATTERN = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|scrapy|curl/|wget/|python-requests|python-urllib|aiohttp|"
    r"go-http-client|okhttp|java/|libwww|httpclient|headless|check_http|monitor|uptime|"
    r"facebookexternalhit|feedfetcher|preview",
    re.IGNORECASE,
)
_TABLET_PATTERN = re.compile(
    r"ipad|tablet|kindle|silk/|playbook|sm-t\d|sm-x\d|tab\b", re.IGNORECASE
)
_DESKTOP_OS = {"Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Chrome OS", "FreeBSD", "Debian"}
_MOBILE_OS = {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "HarmonyOS"}

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


def classify(user_agent: str | None) -> Device:
    """Device type, a readable device label, OS and browser family of one User-Agent."""
    if not user_agent:
        return UNKNOWN
    result = ua_parser.parse(user_agent).with_defaults()
    browser, os_family = _known(result.user_agent.family), _known(result.os.family)
    device_family = result.device.family
    if device_family == "Spider" or _BOT_PATTERN.search(user_agent):
        return Device("bot", browser or user_agent.split("/")[0][:64], os_family, browser)
    is_tablet = bool(_TABLET_PATTERN.search(user_agent)) or (
        os_family == "Android" and "Mobile" not in user_agent
    )
    specific_device = _device_label(result.device.family, result.device.brand)
    if is_tablet:
        return Device(
            "tablet", specific_device or f"{os_family or 'Unknown'} tablet", os_family, browser
        )
    if os_family in _MOBILE_OS or "Mobile" in user_agent:
        return Device(
            "mobile", specific_device or f"{os_family or 'Unknown'} phone", os_family, browser
        )
    if os_family in _DESKTOP_OS:
        return Device("desktop", f"{os_family} desktop", os_family, browser)
    return Device("other", specific_device or browser or "Unknown", os_family, browser)


def device_table(spark: SparkSession, user_agents: Iterable[str]) -> DataFrame:
    """A small DataFrame (user_agent -> device columns) for a broadcast join."""
    rows = []
    for ua in user_agents:
        d = classify(ua)
        rows.append((ua, d.device_type, d.device, d.os, d.browser))
    return local_frame(spark, rows, DEVICE_SCHEMA)
