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
from dataclasses import dataclass

from generator import clients, site
from generator.traffic import KINDS, rng_for

REQUEST_POOL = 1 << 16
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


def build_model(seed: int, lines: int) -> Model:
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
        populations.append(
            Population(table.heads, table.agents, requests * (REQUEST_POOL // distinct))
        )
    return Model(tuple(populations))


@functools.lru_cache(maxsize=2)
def model_for(seed: int, lines: int) -> Model:
    """The model of a run, cached so that a worker builds it once for all its files."""
    return build_model(seed, lines)
