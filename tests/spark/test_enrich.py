"""Device classification of User-Agent strings (pure Python, no Spark)."""

from __future__ import annotations

import pytest

from spark.enrich import UNKNOWN, classify

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Mobile/15E148 Safari/604.1"
)
SAMSUNG_TAB = (
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36"
)
PIXEL = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
REDUCED_ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.mark.parametrize(
    ("user_agent", "device_type", "device"),
    [
        (CHROME_WIN, "desktop", "Windows desktop"),
        (IPHONE, "mobile", "iPhone"),
        (IPAD, "tablet", "iPad"),
        (SAMSUNG_TAB, "tablet", "SM-X710"),
        (PIXEL, "mobile", "Google Pixel 8"),
        (REDUCED_ANDROID, "mobile", "Android phone"),
        (GOOGLEBOT, "bot", "Googlebot"),
        ("curl/8.5.0", "bot", "curl"),
        ("python-requests/2.31.0", "bot", "Python Requests"),
    ],
)
def test_device_type_and_label(user_agent: str, device_type: str, device: str) -> None:
    result = classify(user_agent)
    assert (result.device_type, result.device) == (device_type, device)


def test_missing_user_agent_is_other() -> None:
    assert classify(None) == UNKNOWN
    assert classify("") == UNKNOWN
    assert UNKNOWN.device_type == "other"


def test_os_and_browser_families() -> None:
    result = classify(CHROME_WIN)
    assert (result.os, result.browser) == ("Windows", "Chrome")
