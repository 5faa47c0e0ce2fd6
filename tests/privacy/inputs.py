"""The privacy tests' input: addresses in every form, a user name, secrets in query
strings, one line per day that retention keeps or deletes. Shared by the embedded
(tests/privacy/test_warehouse.py) and local-stack (tests/stack/test_privacy_stack.py) runs."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta

KEY = "privacy-test-key-" + "0123456789abcdef" * 2
TODAY = datetime.now(UTC).date()
NEW, OLD = TODAY - timedelta(days=1), TODAY - timedelta(days=40)
TOKEN, EMAIL, USER = "s3cr3t-t0ken-value", "bob@example.org", "alice.user"
V4, MAPPED_V4, V6 = "203.0.113.77", "198.51.100.23", "2001:db8:85a3:8d3:1319:8a2e:370:7348"
# Zoned addresses are rejected by the parser: they reach rejected_lines only.
ZONED = "fe80::1%eth0"
SECRETS = [V4, MAPPED_V4, V6, "fe80::1", USER, TOKEN, EMAIL]
PARAMS = ("token", "email")


def when(day: date, hour: int) -> str:
    return f"{day:%d}/{day:%b}/{day:%Y}:{hour:02d}:00:00 +0000"


def lines(day_new: date = NEW, day_old: date = OLD) -> list[str]:
    ua = '"Mozilla/5.0 (X11; Linux x86_64)"'
    return [
        f'{V4} - {USER} [{when(day_new, 9)}] "GET /login?token={TOKEN}&x=1 HTTP/1.1" 200 512 '
        f'"https://example.com/?email={EMAIL}" {ua}',
        f'::ffff:{MAPPED_V4} - - [{when(day_new, 10)}] "GET / HTTP/1.1" 200 100 "-" "curl/8.5.0"',
        f'{V6} - - [{when(day_old, 11)}] "GET /a HTTP/1.1" 404 0 "-" {ua}',
        f'{V6} - {USER} [{when(day_old, 12)}] "GET /b?email={EMAIL} HTTP/1.1" 200 5 "-" {ua}',
        f'{ZONED} - {USER} [{when(day_new, 13)}] "GET /?token={TOKEN} HTTP/1.1" 200 1 "-" "-"',
        f'{V4} - - [yesterday] "GET / HTTP/1.1" 200 1 "-" "-"',
    ]


# A file ingested after the switch to `truncate` (`new_lines`), and what the warehouse
# holds then: the four accepted lines of `lines()` rewritten, this one truncated at parse.
NEW_SECRETS = ["192.0.2.201", "carol"]
TRUNCATED_CLIENT_IPS = [
    "192.0.2.0", "198.51.100.0", "2001:db8:85a3::", "2001:db8:85a3::", "203.0.113.0",
]  # fmt: skip


def new_lines() -> list[str]:
    return [f'192.0.2.201 - carol [{when(NEW, 14)}] "GET / HTTP/1.1" 200 7 "-" "-"']


def mac(text: str) -> str:
    return hmac.new(KEY.encode(), text.encode(), hashlib.sha256).hexdigest()
