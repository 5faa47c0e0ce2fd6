"""Each client-IP policy on IPv4 and IPv6 (mapped, zoned, embedded, not-an-address), user
names, query parameters and rejected raw lines. Expected values are written out by hand;
HMACs are computed by Python's `hmac` module, not by the code under test."""

from __future__ import annotations

import hashlib
import hmac
import random
from typing import Any

import pytest

from core.errors import ConfigError
from core.settings import IP_HASH_KEY_ENV, ClientIpPolicy, EtlSettings
from spark.privacy import REDACTED, anonymise, check_key, hash_key, hmac_pads

pytestmark = pytest.mark.spark

KEY = b"k" * 20 + b"-test-only-key"


def etl(policy: str = "truncate", **more: Any) -> EtlSettings:
    return EtlSettings(client_ip=ClientIpPolicy(policy), **more)


def column(spark: Any, name: str, values: list[str | None], settings: EtlSettings) -> list:
    frame = spark.createDataFrame([(i, v) for i, v in enumerate(values)], f"i int, {name} string")
    rows = anonymise(frame, settings, KEY).orderBy("i").collect()
    return [row[name] for row in rows]


def mac(text: str, key: bytes = KEY) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


TRUNCATED_DEFAULT = {
    "192.0.2.77": "192.0.2.0",
    "10.1.2.3": "10.1.2.0",
    "255.255.255.255": "255.255.255.0",
    "0.0.0.0": "0.0.0.0",
    # IPv4-mapped: truncated as the IPv4 address it is.
    "::ffff:192.0.2.77": "192.0.2.0",
    "::FFFF:198.51.100.200": "198.51.100.0",
    "2001:db8:85a3:8d3:1319:8a2e:370:7348": "2001:db8:85a3::",
    "2001:DB8:85A3:08D3::1": "2001:db8:85a3::",
    "2001:0db8:85a3:0000:0000:8a2e:0370:7334": "2001:db8:85a3::",
    "2001:db8::1": "2001:db8::",
    "2001:db8:1234:5678::1": "2001:db8:1234::",
    # Zoned: the zone is dropped.
    "fe80::1%eth0": "fe80::",
    "fe80::aaaa:bbbb:cccc:dddd%enp0s31f6": "fe80::",
    "::1": "::",
    "::": "::",
    "0:0:0:1::": "::",
    # A dotted quad inside an IPv6 address is its last two groups.
    "64:ff9b::192.0.2.33": "64:ff9b::",
    "1:2:3:4:5:6:1.2.3.4": "1:2:3::",
    # Not addresses: nothing of them is kept.
    "1.2.3": REDACTED,
    "256.1.1.1": REDACTED,
    "1.2.3.4.5": REDACTED,
    "1::2::3": REDACTED,
    "1:::2": REDACTED,
    "1:2:3:4:5:6:7:8:9": REDACTED,
    "1:2:3:4:5:6:7:8::": REDACTED,
    "12345::1": REDACTED,
    "deadbeef": REDACTED,
    "::1.2.3.999": REDACTED,
}


def test_truncate_default_prefixes(spark: Any) -> None:
    values = [*TRUNCATED_DEFAULT, None]
    assert column(spark, "client_ip", values, etl()) == [*TRUNCATED_DEFAULT.values(), None]


@pytest.mark.parametrize(
    ("ipv4_prefix", "ipv6_prefix", "expected"),
    [
        (16, 56, ["192.0.0.0", "172.16.0.0", "192.0.0.0", "2001:db8:85a3:800::", "fe80::"]),
        (20, 44, ["192.0.0.0", "172.16.240.0", "192.0.0.0", "2001:db8:85a0::", "fe80::"]),
        (
            32,
            128,
            [
                "192.0.2.77",
                "172.16.255.1",
                "192.0.2.77",
                "2001:db8:85a3:8d3:1319:8a2e:370:7348",
                "fe80:0:0:0:0:0:0:1",
            ],
        ),
        (0, 0, ["0.0.0.0", "0.0.0.0", "0.0.0.0", "::", "::"]),
        (8, 64, ["192.0.0.0", "172.0.0.0", "192.0.0.0", "2001:db8:85a3:8d3::", "fe80::"]),
    ],
)
def test_truncate_other_prefixes(
    spark: Any, ipv4_prefix: int, ipv6_prefix: int, expected: list[str]
) -> None:
    values = [
        "192.0.2.77",
        "172.16.255.1",
        "::ffff:192.0.2.77",
        "2001:db8:85a3:08d3:1319:8a2e:370:7348",
        "fe80::1%eth0",
    ]
    settings = etl(ipv4_prefix=ipv4_prefix, ipv6_prefix=ipv6_prefix)
    assert column(spark, "client_ip", values, settings) == expected


def test_truncate_drops_user_names(spark: Any) -> None:
    assert column(spark, "remote_user", ["alice", None], etl()) == [REDACTED, None]


def test_hash_is_hmac_sha256_of_the_normalised_address(spark: Any) -> None:
    # address as logged -> what is hashed (lower case, zone dropped, mapped -> IPv4)
    normalised = {
        "192.0.2.77": "192.0.2.77",
        "::ffff:192.0.2.77": "192.0.2.77",
        "::FFFF:192.0.2.77": "192.0.2.77",
        "2001:DB8::1": "2001:db8::1",
        "fe80::1%eth0": "fe80::1",
        "fe80::1": "fe80::1",
    }
    hashed = column(spark, "client_ip", [*normalised, None], etl("hash"))
    assert hashed == [*[mac(v) for v in normalised.values()], None]
    # One client over IPv4 and mapped IPv4 is one token: top-IP reports still rank it once.
    assert hashed[0] == hashed[1] == hashed[2]
    # A token is not hashed again (rewriting old rows twice changes nothing).
    assert column(spark, "client_ip", [hashed[0]], etl("hash")) == [hashed[0]]


def test_hmac_matches_python_on_many_messages_and_key_lengths(spark: Any) -> None:
    rng = random.Random(18)
    alphabet = "abcXYZ019.:%-_ /?=&é漢😀\t"
    random_texts = ("".join(rng.choices(alphabet, k=rng.randint(1, 300))) for _ in range(300))
    messages = ["", "a", *random_texts]
    # Keys shorter than, equal to and longer than SHA-256's 64-byte block (hashed first).
    for length in (16, 63, 64, 65, 200):
        key = bytes(rng.randrange(256) for _ in range(length))
        frame = spark.createDataFrame(list(enumerate(messages)), "i int, remote_user string")
        rows = anonymise(frame, etl("hash"), key).orderBy("i").collect()
        expected = [hmac.new(key, m.encode(), hashlib.sha256).hexdigest() for m in messages]
        assert [r.remote_user for r in rows] == expected, f"key of {length} bytes"


def test_the_key_is_not_in_the_query_plan(spark: Any) -> None:
    frame = spark.createDataFrame([("192.0.2.77",)], "client_ip string")
    plan = anonymise(frame, etl("hash"), KEY)._jdf.queryExecution().toString()
    ipad, opad = hmac_pads(KEY)
    for secret in (KEY.decode(), KEY.hex(), ipad.hex(), opad.hex(), ipad.hex().upper()):
        assert secret not in plan
    assert "_hmac_ipad" in plan  # the plan printed is the one that hashes


def test_keep_changes_nothing(spark: Any) -> None:
    values = ["192.0.2.77", "fe80::1%eth0", "::ffff:1.2.3.4"]
    assert column(spark, "client_ip", values, etl("keep")) == values
    assert column(spark, "remote_user", ["alice"], etl("keep")) == ["alice"]


def test_query_parameter_values_are_replaced(spark: Any) -> None:
    settings = etl("keep", redact_query_params=("token", "email", "session.id"))
    paths = {
        "/a?token=abc&email=x%40y.z&page=2": "/a?token=REDACTED&email=REDACTED&page=2",
        "/a?page=1&TOKEN=s3cr3t#top": "/a?page=1&TOKEN=REDACTED#top",
        "/a?x=1&token=": "/a?x=1&token=REDACTED",
        "/a?session.id=9&sessionxid=8": "/a?session.id=REDACTED&sessionxid=8",
        "/a?mytoken=1&token_b=2": "/a?mytoken=1&token_b=2",
        "/token=1": "/token=1",
    }
    assert column(spark, "path", [*paths, None], settings) == [*paths.values(), None]
    referrer = "https://example.com/reset?email=a@b.c"
    assert column(spark, "referrer", [referrer], settings) == [
        "https://example.com/reset?email=REDACTED"
    ]


def test_rejected_raw_lines_lose_the_leading_address_and_the_user(spark: Any) -> None:
    request = '[07/Oct/2024:10:00:00 +0000] "GET /x?token=abc&b=1 HTTP/1.1" 200'
    lines = {
        f"192.0.2.77 - alice {request}": f"192.0.2.0 - REDACTED {request}".replace(
            "token=abc", "token=REDACTED"
        ),
        f"fe80::1%eth0 - - {request}": f"fe80:: - - {request}".replace(
            "token=abc", "token=REDACTED"
        ),
        "::ffff:192.0.2.77 - bob [x": "192.0.2.0 - REDACTED [x",
        "1.2.3 - - [cut": "REDACTED - - [cut",
        "2001:db8::7": "2001:db8::",
        "no address here 192.0.2.77": "no address here 192.0.2.77",
        "": "",
    }
    settings = etl(redact_query_params=("token",))
    assert column(spark, "raw_line", [*lines, None], settings) == [*lines.values(), None]


def test_hash_policy_on_raw_lines(spark: Any) -> None:
    lines = ["192.0.2.77 - alice [bad time]", "fe80::1%eth0 - - [x"]
    expected = [f"{mac('192.0.2.77')} - {mac('alice')} [bad time]", f"{mac('fe80::1')} - - [x"]
    assert column(spark, "raw_line", lines, etl("hash")) == expected


def test_a_missing_or_short_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=rf"\${IP_HASH_KEY_ENV} is not set"):
        hash_key({})
    with pytest.raises(ConfigError, match="shorter than 16 bytes"):
        check_key(etl("hash"), {IP_HASH_KEY_ENV: "short"})
    check_key(etl("truncate"), {})  # no key needed
    assert hash_key({IP_HASH_KEY_ENV: "x" * 16}) == b"x" * 16
