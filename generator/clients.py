"""Client populations: addresses, User-Agents and how often each client comes back.

A population is a *slot table*: two parallel lists (`heads`, `agents`) where a client
appears in as many slots as its share of requests. Drawing a uniform slot is then one
C-level list lookup per line (see generator.render), and the client's address and its
User-Agent come from the same slot, so they stay consistent.

Human clients (about one per 10 requests) follow a Zipf-Mandelbrot law, weight ~
1/(rank + 10): the rarest client gets one slot and the busiest thousands, so the top 1%
of addresses carry a third (100k lines) to a half (1M lines) of the human requests,
while half of all addresses are seen once or twice. Some of the busiest addresses are
NATs (offices, mobile carriers' CGNAT) and show many UAs.
"""

from __future__ import annotations

import ipaddress
import random
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, repeat

from generator import nginx_format
from generator.bots import OPERATORS, Kind, Operator, operators
from generator.useragents import Agent, human_agents

# First octets humans are never drawn from: "this network" (0), private (10, 172, 192),
# shared (100), loopback (127), link-local (169), documentation and benchmarking (198, 203),
# and the first octets of every bot network (so a human never lands inside Googlebot's range
# by chance). Multicast and reserved space (224 and up) are outside the range drawn from.
_RESERVED_FIRST_OCTETS = {0, 10, 100, 127, 169, 172, 192, 198, 203}
_EXCLUDED_FIRST_OCTETS = _RESERVED_FIRST_OCTETS | {
    int(network.split(".")[0]) for op in OPERATORS for network in op.networks if ":" not in network
}
_HUMAN_FIRST_OCTETS = bytes(o for o in range(1, 224) if o not in _EXCLUDED_FIRST_OCTETS)
_FIRST_OCTET_TABLE = bytes(_HUMAN_FIRST_OCTETS[b % len(_HUMAN_FIRST_OCTETS)] for b in range(256))

# Residential and mobile ISPs' IPv6 allocations (/32s) -> rough size of their user base.
_IPV6_ISP_PREFIXES = {
    "2a02:8108::": 3,
    "2003:e0::": 4,
    "2a01:cb00::": 3,
    "2600:1700::": 4,
    "2601:1c0::": 6,
    "2607:fb90::": 5,
    "2409:4000::": 4,
    "2405:201::": 3,
    "2a00:23c0::": 2,
    "2001:569::": 1,
    "2804:14c::": 2,
    "240e:3b0::": 2,
}
_IPV6_PREFIX_BYTES = tuple(ipaddress.IPv6Address(p).packed[:4] for p in _IPV6_ISP_PREFIXES)
_IPV6_PREFIX_WEIGHTS = tuple(accumulate(_IPV6_ISP_PREFIXES.values()))

# Share of clients on IPv6, by device class: mobile carriers are the most IPv6-heavy.
_IPV6_SHARE = {"mobile": 0.38, "tablet": 0.3, "desktop": 0.18}

# Logins (HTTP basic auth on the staff area) are rare: a few staff and API clients.
LOGIN_SHARE = 0.004
_USERS = (
    "alice",
    "bob",
    "carol",
    "dave",
    "editor",
    "deploy",
    "api-client",
    "j.smith",
    "m.garcia",
    "ops",
    "reporting",
    "admin",
)


@dataclass(frozen=True)
class SlotTable:
    """Parallel per-slot lists: `heads[i]` is `<addr> - <user> [`, `agents[i]` `<ua>"\\n`.

    Fragments are ASCII bytes (nginx escaping leaves nothing else), ready to be joined
    into the output; slots of one client share one object.
    """

    heads: list[bytes]
    agents: list[bytes]

    def __len__(self) -> int:
        return len(self.heads)


def public_ipv4(rng: random.Random, n: int) -> list[str]:
    """`n` distinct public IPv4 addresses outside the bot networks."""
    found: dict[str, None] = {}
    while len(found) < n:
        want = n - len(found) + 16
        raw = rng.randbytes(4 * want)
        first = raw[0::4].translate(_FIRST_OCTET_TABLE)
        found.update(
            dict.fromkeys(map("{}.{}.{}.{}".format, first, raw[1::4], raw[2::4], raw[3::4]))
        )
    return list(found)[:n]


def public_ipv6(rng: random.Random, n: int) -> list[str]:
    """`n` distinct addresses in ISP prefixes, random subnet and interface id (RFC 4941)."""
    prefixes = rng.choices(_IPV6_PREFIX_BYTES, cum_weights=_IPV6_PREFIX_WEIGHTS, k=n)
    raw = rng.randbytes(12 * n)
    packed = map(bytes.__add__, prefixes, (raw[i : i + 12] for i in range(0, 12 * n, 12)))
    # inet_ntop writes the canonical compressed form, as nginx does for $remote_addr.
    found = dict.fromkeys(map(socket.inet_ntop, repeat(socket.AF_INET6), packed))
    if len(found) < n:  # practically never: 96 random bits
        found.update(dict.fromkeys(public_ipv6(rng, n - len(found))))
    return list(found)[:n]


def zipf_slot_counts(n: int, exponent: float = 1.0, offset: float = 10.0) -> list[int]:
    """Slots per client, by rank: weight (rank + offset)^-exponent, the rarest gets 1."""
    scale = (n + offset) ** exponent
    return [max(1, round(scale * (rank + offset) ** -exponent)) for rank in range(1, n + 1)]


def split_exactly(total: int, weights: Sequence[float]) -> list[int]:
    """Integers proportional to `weights` that add up to `total` (largest remainder)."""
    wsum = sum(weights)
    exact = [total * w / wsum for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _table(heads: Sequence[bytes], agents: Sequence[bytes], counts: Sequence[int]) -> SlotTable:
    return SlotTable(
        heads=list(chain.from_iterable(map(repeat, heads, counts))),
        agents=list(chain.from_iterable(map(repeat, agents, counts))),
    )


def _ascii(text: str) -> bytes:
    return text.encode("ascii")


def human_population_size(lines: int) -> int:
    """Distinct human clients for a run of `lines`: ~1 per 10 requests, within bounds."""
    return max(500, min(lines // 10, 300_000))


def human_clients(rng: random.Random, n: int) -> SlotTable:
    pool = human_agents()
    cum = list(accumulate(a.weight for a in pool))
    agents: list[Agent] = rng.choices(pool, cum_weights=cum, k=n)
    on_v6 = [rng.random() < _IPV6_SHARE[a.device] for a in agents]
    v6 = iter(public_ipv6(rng, sum(on_v6)))
    v4 = iter(public_ipv4(rng, n - sum(on_v6)))
    addresses = [next(v6) if six else next(v4) for six in on_v6]
    counts = zipf_slot_counts(n)
    # head_part(address, None) for everyone, in C; then the few clients who log in.
    heads = list(map(str.encode, map("{} - - [".format, addresses)))
    for rank, user in _logins(rng, counts).items():
        heads[rank] = _ascii(nginx_format.head_part(addresses[rank], user))
    # One shared object per distinct UA: fewer objects, fewer cache misses when rendering.
    parts = {a.ua: _ascii(nginx_format.agent_part(a.ua)) for a in pool}
    agent_parts = [parts[a.ua] for a in agents]
    table = _table(heads, agent_parts, counts)
    _share_busy_addresses(rng, table, counts, [parts[a.ua] for a in pool], cum)
    return table


def _logins(rng: random.Random, counts: Sequence[int]) -> dict[int, str]:
    """Usernames for a few clients (not the busiest), together ~LOGIN_SHARE of requests."""
    users: dict[int, str] = {}
    budget = LOGIN_SHARE * sum(counts)
    first = min(20, len(counts) - 1)
    for _ in range(10 * len(counts)):  # bounded: tiny populations may never fill it
        if budget <= 0:
            break
        rank = rng.randrange(first, len(counts))
        if rank not in users:
            users[rank] = rng.choice(_USERS)
            budget -= counts[rank]
    return users


def _share_busy_addresses(
    rng: random.Random,
    table: SlotTable,
    counts: Sequence[int],
    parts: Sequence[bytes],
    cum: Sequence[float],
) -> None:
    """Give some of the busiest addresses several devices behind one NAT."""
    start = 0
    for count in counts[: max(1, len(counts) // 100)]:
        if count >= 8 and rng.random() < 0.4:
            devices = rng.choices(parts, cum_weights=cum, k=rng.randint(3, 24))
            table.agents[start : start + count] = rng.choices(devices, k=count)
        start += count


def _addresses_in(rng: random.Random, networks: Sequence[str], n: int) -> list[str]:
    found: dict[str, None] = {}
    nets = [ipaddress.ip_network(c) for c in networks]
    attempts = 0
    while len(found) < n and attempts < 50 * n:
        net = nets[attempts % len(nets)]
        attempts += 1
        hosts = net.num_addresses
        # Skip network and broadcast addresses of IPv4 subnets larger than a /31.
        low, high = (1, hosts - 2) if net.version == 4 and hosts > 2 else (0, hosts - 1)
        found[str(net.network_address + rng.randint(low, high))] = None
    return list(found)


def bot_clients(rng: random.Random, kind: Kind, slots: int = 1 << 16) -> SlotTable:
    """Slots for one kind of automated client, operators weighted by their share."""
    ops = operators(kind)
    per_op = split_exactly(slots, [op.share for op in ops])
    heads: list[bytes] = []
    agents: list[bytes] = []
    for op, op_slots in zip(ops, per_op, strict=True):
        op_heads, op_agents = _operator_slots(rng, op, op_slots)
        heads += op_heads
        agents += op_agents
    return SlotTable(heads, agents)


def _operator_slots(
    rng: random.Random, op: Operator, slots: int
) -> tuple[list[bytes], list[bytes]]:
    addresses = _addresses_in(rng, op.networks, op.addresses)
    # Crawlers concentrate on a few addresses (steep); scanners spread out (flat).
    exponent = {"crawler": 1.3, "monitor": 0.5, "scanner": 0.6}[op.kind]
    counts = split_exactly(slots, [(r + 1.0) ** -exponent for r in range(len(addresses))])
    parts = [_ascii(nginx_format.agent_part(ua)) for ua, _ in op.agents]
    cum = list(accumulate(w for _, w in op.agents))
    heads = [_ascii(nginx_format.head_part(a, None)) for a in addresses]
    if op.kind == "crawler":  # one crawler address sends all of its operator's UAs
        chosen = rng.choices(parts, cum_weights=cum, k=slots)
        return list(chain.from_iterable(map(repeat, heads, counts))), chosen
    per_address = rng.choices(parts, cum_weights=cum, k=len(addresses))
    table = _table(heads, per_address, counts)
    return table.heads, table.agents
