"""Personal data in access logs: client addresses, user names, secrets in query strings.

`anonymise` is a pure DataFrame -> DataFrame transform, built from Spark SQL functions only
(no Python per row). The ETL applies it to the parsed lines before anything is written
(staging Parquet included); `lakehouse maintain --rewrite-ips` applies it to rows already
in the tables. What is stored where, and for how long: docs/privacy.md.

Policies (`etl.client_ip`):
- keep: addresses as logged.
- truncate: the network part, `etl.ipv4_prefix` (24) / `etl.ipv6_prefix` (48) bits, the
  rest zeroed: 192.0.2.77 -> 192.0.2.0, 2001:db8:85a3:8d3:1319:8a2e:370:7348 ->
  2001:db8:85a3::. An IPv4-mapped address (::ffff:192.0.2.77) is truncated as the IPv4
  address it is, a zone (fe80::1%eth0) is dropped. A value that is no address becomes
  REDACTED. User names cannot be truncated: they become REDACTED.
- hash: HMAC-SHA256 (RFC 2104) under the key in $LAKEHOUSE_IP_HASH_KEY, as 64 hex digits.
  The same address gives the same token under one key, so top-IP reports still rank
  clients; without the key an address cannot be tested against a token.

Spark 4.1 has no keyed hash (`sha2`, `md5`, `xxhash64` take no key). HMAC is built from
`sha2` as RFC 2104 defines it: H((K' xor opad) || H((K' xor ipad) || message)), with K' the
key (hashed first if longer than SHA-256's 64-byte block) padded with zeros to 64 bytes.
The two padded keys are computed once on the driver and joined to the rows as a one-row
broadcast, not written into the plan as literals: Spark logs plans (event logs, UI), and a
padded key is as good as the key.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from core.errors import ConfigError
from core.names import CLIENT_IP_POLICY_PROPERTY
from core.settings import IP_HASH_KEY_ENV, ClientIpPolicy, EtlSettings, Settings
from spark import tables
from spark.commits import iceberg_table
from spark.frames import local_frame

REDACTED = "REDACTED"
# Shorter keys make the tokens guessable by trying keys; 16 bytes is 128 bits at best.
MIN_KEY_BYTES = 16
_BLOCK_BYTES = 64  # SHA-256's block size, which HMAC pads the key to
_IPAD, _OPAD = "_hmac_ipad", "_hmac_opad"

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"
_HEX_GROUP = "^[0-9a-f]{1,4}$"
_HASHED = "^[0-9a-f]{64}$"
# What an address logged at the start of a line looks like, zone included (the parser
# rejects zoned addresses, so they only reach rejected_lines).
_LEADING_ADDRESS = r"^([0-9A-Fa-f:.]*[.:][0-9A-Fa-f:.]*(?:%\S*)?)(?=\s|$)"
# After the address: ` $remote_ident $remote_user [`.
_USER_FIELD = r"(?s)^( \S+ )(\S+)( \[.*)$"


def hash_key(environ: Mapping[str, str] = os.environ) -> bytes:
    """The HMAC key from the environment (on EKS: a Kubernetes Secret, docs/privacy.md)."""
    key = environ.get(IP_HASH_KEY_ENV, "").encode()
    if len(key) < MIN_KEY_BYTES:
        problem = "is not set" if not key else f"is shorter than {MIN_KEY_BYTES} bytes"
        raise ConfigError(
            f"setting 'etl.client_ip' is 'hash' but ${IP_HASH_KEY_ENV} {problem}: set it to "
            f"a secret of {MIN_KEY_BYTES}+ bytes, e.g. `openssl rand -hex 32` (docs/privacy.md)"
        )
    return key


def check_key(etl: EtlSettings, environ: Mapping[str, str] = os.environ) -> None:
    """Fail before Spark starts if the policy needs a key the environment lacks."""
    if etl.client_ip == ClientIpPolicy.HASH:
        hash_key(environ)


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """(K' xor ipad, K' xor opad) of RFC 2104 for SHA-256."""
    if len(key) > _BLOCK_BYTES:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(_BLOCK_BYTES, b"\0")
    return bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)


def policy_label(etl: EtlSettings) -> str:
    """How the policy is shown (report page, table property), e.g. `truncate (IPv4 /24, ...)`."""
    label = {
        ClientIpPolicy.KEEP: "keep",
        ClientIpPolicy.TRUNCATE: f"truncate (IPv4 /{etl.ipv4_prefix}, IPv6 /{etl.ipv6_prefix})",
        ClientIpPolicy.HASH: "hash (HMAC-SHA256)",
    }[etl.client_ip]
    if etl.redact_query_params:
        label += "; query parameters redacted: " + ", ".join(etl.redact_query_params)
    return label


# --- addresses -------------------------------------------------------------------------


def _normalised(ip: Column) -> Column:
    """Lower case, zone dropped, an IPv4-mapped IPv6 address as its IPv4 address."""
    plain = F.regexp_replace(F.lower(ip), "%.*$", "")
    return F.regexp_replace(plain, r"^::ffff:([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)$", "$1")


def _truncated_ipv4(ip: Column, prefix: int) -> Column:
    octets = F.split(ip, r"\.")
    number = F.lit(0).cast("bigint")
    for i in range(4):
        number = number + F.shiftleft(F.get(octets, i).cast("bigint"), 24 - 8 * i)
    network = number.bitwiseAND(((1 << 32) - 1) ^ ((1 << (32 - prefix)) - 1))
    return F.concat_ws(
        ".", *[F.shiftright(network, 24 - 8 * i).bitwiseAND(255).cast("string") for i in range(4)]
    )


def _ipv6_groups(ip: Column) -> Column:
    """The eight 16-bit groups (hex strings) of an IPv6 address, or an array of another size.

    `::` is expanded; a trailing dotted quad (::1.2.3.4, 64:ff9b::1.2.3.4) becomes two groups.
    """
    quad = rf"^(.*:){_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"
    byte = [F.regexp_extract(ip, quad, i).cast("int") for i in range(2, 6)]
    as_groups = F.concat(
        F.regexp_extract(ip, quad, 1),
        F.lower(F.hex(byte[0] * 256 + byte[1])),
        F.lit(":"),
        F.lower(F.hex(byte[2] * 256 + byte[3])),
    )
    text = F.when(ip.rlike(quad), as_groups).otherwise(ip)
    head, tail = F.substring_index(text, "::", 1), F.substring_index(text, "::", -1)

    def groups(part: Column) -> Column:
        return F.when(part == "", F.array().cast("array<string>")).otherwise(F.split(part, ":"))

    missing = 8 - F.size(groups(head)) - F.size(groups(tail))
    double_colons = (F.length(text) - F.length(F.replace(text, F.lit("::"), F.lit("")))) / 2
    expanded = F.concat(groups(head), F.array_repeat(F.lit("0"), missing), groups(tail))
    return (
        F.when(double_colons == 0, F.split(text, ":"))
        # `::` stands for one group or more; `:::` and a second `::` are not addresses.
        .when((double_colons == 1) & ~F.contains(text, F.lit(":::")) & (missing >= 1), expanded)
        .otherwise(F.array().cast("array<string>"))
    )


def _is_ipv6(groups: Column) -> Column:
    return (F.size(groups) == 8) & F.forall(groups, lambda g: g.rlike(_HEX_GROUP))


def _truncated_ipv6(groups: Column, prefix: int) -> Column:
    kept = []
    for i in range(-(-prefix // 16)):  # the groups holding prefix bits
        bits = min(16, prefix - 16 * i)
        value = F.conv(F.get(groups, i), 16, 10).cast("int")
        kept.append(F.lower(F.hex(value.bitwiseAND(0xFFFF ^ ((1 << (16 - bits)) - 1)))))
    if len(kept) == 8:
        return F.concat_ws(":", *kept)
    if not kept:
        return F.lit("::")
    # The zero groups at the end of the kept part join the `::` (2001:db8:0:: -> 2001:db8::).
    text = F.concat(F.concat_ws(":", *kept), F.lit("::"))
    return F.regexp_replace(F.regexp_replace(text, "(:0)+::$", "::"), "^0::$", "::")


def truncated_ip(ip: Column, ipv4_prefix: int, ipv6_prefix: int) -> Column:
    """The network part of an address as text; REDACTED for a value that is no address."""
    address = _normalised(ip)
    groups = _ipv6_groups(address)
    return F.when(
        ip.isNotNull(),
        F.when(address.rlike(_IPV4), _truncated_ipv4(address, ipv4_prefix))
        .when(_is_ipv6(groups), _truncated_ipv6(groups, ipv6_prefix))
        .otherwise(F.lit(REDACTED)),
    )


def hmac_hex(message: Column) -> Column:
    """HMAC-SHA256 of the UTF-8 bytes of `message` under the key joined as _IPAD/_OPAD."""
    inner = F.unhex(F.sha2(F.concat(F.col(_IPAD), F.encode(message, "UTF-8")), 256))
    return F.sha2(F.concat(F.col(_OPAD), inner), 256)


def _hashed(value: Column) -> Column:
    # A token is left as it is, so rewriting already-hashed rows changes nothing.
    return F.when(value.rlike(_HASHED), value).otherwise(hmac_hex(value))


def _ip(etl: EtlSettings, ip: Column) -> Column:
    if etl.client_ip == ClientIpPolicy.TRUNCATE:
        return truncated_ip(ip, etl.ipv4_prefix, etl.ipv6_prefix)
    if etl.client_ip == ClientIpPolicy.HASH:
        return _hashed(_normalised(ip))
    return ip


def _user(etl: EtlSettings, user: Column) -> Column:
    if etl.client_ip == ClientIpPolicy.TRUNCATE:
        return F.when(user.isNotNull(), F.lit(REDACTED))
    if etl.client_ip == ClientIpPolicy.HASH:
        return _hashed(user)
    return user


# --- query strings and raw lines -------------------------------------------------------


def _without_params(text: Column, names: tuple[str, ...], value_ends: str) -> Column:
    if not names:
        return text
    alternatives = "|".join(re.escape(name) for name in names)
    pattern = rf"(?i)([?&](?:{alternatives})=)[^{value_ends}]*"
    return F.regexp_replace(text, pattern, f"$1{REDACTED}")


def _redacted_raw_line(etl: EtlSettings, line: Column) -> Column:
    """The address at the start of a rejected line and the user field after it, by policy.

    A rejected line may be anything: only an address-looking first token (zone included)
    and a `- user [` after it are recognised; an address elsewhere in the line is not.
    """
    if etl.client_ip != ClientIpPolicy.KEEP:
        lead = F.regexp_extract(line, _LEADING_ADDRESS, 1)
        after = F.substring(line, F.length(lead) + 1, 1 << 30)
        user = F.regexp_extract(after, _USER_FIELD, 2)
        redacted_user = F.concat(
            F.regexp_extract(after, _USER_FIELD, 1),
            _user(etl, F.when(user != "-", user)),
            F.regexp_extract(after, _USER_FIELD, 3),
        )
        line = F.concat(
            F.when(lead != "", _ip(etl, lead)).otherwise(F.lit("")),
            # concat of a NULL user (`-`) is NULL: then the line after the address is kept.
            F.coalesce(F.when(after.rlike(_USER_FIELD), redacted_user), after),
        )
    return _without_params(line, etl.redact_query_params, r"&#\s\"")


# --- the transform ---------------------------------------------------------------------


def anonymise(frame: DataFrame, etl: EtlSettings, key: bytes | None = None) -> DataFrame:
    """`frame` with the policy applied to whichever of these columns it has:
    client_ip, remote_user, path, referrer, raw_line. Other columns are unchanged.

    `key` is the HMAC key for the hash policy (default: from the environment).
    """
    if etl.client_ip == ClientIpPolicy.KEEP and not etl.redact_query_params:
        return frame
    params = etl.redact_query_params
    present = set(frame.columns)
    changes = {
        "client_ip": lambda c: _ip(etl, c),
        "remote_user": lambda c: _user(etl, c),
        "path": lambda c: _without_params(c, params, "&#"),
        "referrer": lambda c: _without_params(c, params, "&#"),
        "raw_line": lambda c: _redacted_raw_line(etl, c),
    }
    if etl.client_ip == ClientIpPolicy.HASH:
        ipad, opad = hmac_pads(key if key is not None else hash_key())
        pads = local_frame(frame.sparkSession, [(ipad, opad)], f"{_IPAD} binary, {_OPAD} binary")
        frame = frame.crossJoin(F.broadcast(pads))
    changed = frame.withColumns(
        {name: change(F.col(name)) for name, change in changes.items() if name in present}
    )
    return changed.drop(_IPAD, _OPAD)


# --- which policy the rows were written under ------------------------------------------

# On access_logs: the policy of its rows, and since when, e.g.
# "truncate (IPv4 /24, IPv6 /48) since 2026-12-02 10:15 UTC; before: keep".
POLICY_PROPERTY = CLIENT_IP_POLICY_PROPERTY


def record_policy(spark: SparkSession, settings: Settings, *, rewritten: bool = False) -> None:
    """Note the policy rows are now written under (the report page shows it).

    `rewritten`: every row was just rewritten under it (`lakehouse maintain --rewrite-ips`).
    Rows written before this property existed were written under `keep`.
    """
    table = settings.table(tables.ACCESS_LOGS)
    label = policy_label(settings.etl)
    loaded = iceberg_table(spark, table)
    recorded = loaded.properties().get(POLICY_PROPERTY)
    if recorded == label or (recorded or "").startswith(f"{label} since "):
        return
    if rewritten or (recorded is None and loaded.currentSnapshot() is None):
        value = label
    else:
        now = datetime.now(UTC)
        value = f"{label} since {now:%Y-%m-%d %H:%M} UTC; before: {recorded or 'keep'}"
    spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ('{POLICY_PROPERTY}' = '{value}')")
