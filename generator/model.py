"""The pools a run draws from, built once per process from the seed.

For each kind of client (KINDS) a population holds the client slot table (address and
User-Agent fragments, see generator.clients) and a request pool of exactly 65,536
pre-formatted request fragments (see generator.site), so a line's request is picked with
one unsigned 16-bit random number and no arithmetic. Smaller pools of distinct requests
are repeated to that length, which leaves their proportions unchanged. Fragments are
ASCII bytes, so rendered text goes to the compressor without an encoding pass.

Everything here depends only on (seed, lines): every worker process rebuilds the same
model, so files come out identical whichever process writes them.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from core.log_format import NAMED
from generator import clients, nginx_format, site
from generator.traffic import KINDS, rng_for

REQUEST_POOL = 1 << 16
TIMING_POOL = 1 << 16
# Distinct request fragments per kind (each a power of two dividing REQUEST_POOL).
_DISTINCT_REQUESTS = {"human": 1 << 15, "crawler": 1 << 13, "monitor": 1 << 8, "scanner": 1 << 11}
_REQUESTS = {
    "human": site.human_requests,
    "crawler": site.crawler_requests,
    "monitor": site.monitor_requests,
    "scanner": site.scanner_requests,
}


@dataclass(frozen=True)
class Population:
    heads: list[bytes]  # per client slot: `<addr> - <user> [`
    agents: list[bytes]  # per client slot: `<ua>"\n`
    requests: list[bytes]  # REQUEST_POOL fragments: `<request>" <status> <bytes> "<referer>" "`


@dataclass(frozen=True)
class Model:
    populations: tuple[Population, ...]  # in KINDS order
    # `timed` only: TIMING_POOL line endings ` <request_time> <upstream_time>\n`, drawn per
    # line like requests (then agents end without the newline).
    tails: tuple[bytes, ...] = ()


def _for_format(pop: Population, log_format: str) -> Population:
    """Combined's client fragments changed for another named format."""
    heads, agents = pop.heads, pop.agents
    if log_format == "vhost":
        hosts = nginx_format.VHOST_HOSTS
        heads = [nginx_format.vhost_head(hosts[i % len(hosts)], h) for i, h in enumerate(heads)]
    if log_format in ("main", "timed"):
        agents = [
            nginx_format.with_forwarded_for(
                a, nginx_format.forwarded_for(i), end_line=log_format == "main"
            )
            for i, a in enumerate(agents)
        ]
    return Population(heads, agents, pop.requests)


def timing_tails(rng: random.Random) -> tuple[bytes, ...]:
    """Request and upstream times: a third static (no upstream), most one upstream, some
    retried on a second server or internally redirected."""
    tails = []
    for _ in range(TIMING_POOL):
        request_ms = min(int(rng.lognormvariate(3.0, 1.2)), 60_000)
        kind = rng.random()
        if kind < 0.3:
            upstream = None
        elif kind < 0.9:
            upstream = [[int(request_ms * rng.uniform(0.5, 0.95))]]
        else:
            # The upstream times together stay within the request's time.
            first = rng.randint(0, min(5, request_ms))
            second = int((request_ms - first) * rng.uniform(0.3, 0.8))
            # Below 0.97 a retry after a failed server (`-`: no response at all), above it
            # an internal redirect to another location.
            retried = [[rng.choice([None, first]), second]]
            upstream = retried if kind < 0.97 else [[first], [second]]
        tails.append(nginx_format.timing_tail(request_ms, upstream).encode("ascii"))
    return tuple(tails)


def build_model(seed: int, lines: int, log_format: str = "combined") -> Model:
    catalog = site.Catalog(rng_for(seed, "catalog"))
    populations = []
    for kind in KINDS:
        rng = rng_for(seed, "clients", kind)
        if kind == "human":
            table = clients.human_clients(rng, clients.human_population_size(lines))
        else:
            table = clients.bot_clients(rng, kind)  # type: ignore[arg-type]
        distinct = _DISTINCT_REQUESTS[kind]
        texts = _REQUESTS[kind](rng_for(seed, "requests", kind), catalog, distinct)
        requests = [t.encode("ascii") for t in texts]
        population = Population(table.heads, table.agents, requests * (REQUEST_POOL // distinct))
        populations.append(_for_format(population, log_format))
    tails = timing_tails(rng_for(seed, "timing")) if log_format == "timed" else ()
    return Model(tuple(populations), tails)


@functools.lru_cache(maxsize=2)
def model_for(seed: int, lines: int, log_format: str = "combined") -> Model:
    """The model of a run, cached so that a worker builds it once for all its files."""
    if log_format not in NAMED:
        raise ValueError(f"the generator writes the named formats only, not {log_format!r}")
    return build_model(seed, lines, log_format)
