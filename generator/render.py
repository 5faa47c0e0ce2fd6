"""Render one file's lines fast: pre-formatted fragments glued together in C.

Per line the work is a handful of list lookups driven by random bytes, with no Python
bytecode executed per line: `map`, `zip`, `itertools.chain`, `collections.Counter` and
`bytes.join` run the loops in C. Random numbers come from one `randbytes` call viewed as
an array of unsigned ints. That is what lets a stdlib-only generator render a line in
about 2 µs (numpy would not help much: the output is text, not numbers).

Steps for a file of n lines:
1. n random seconds of the hour, counted per second: lines come out in time order;
2. a kind per line (human, crawler, monitor, scanner), drawn with the hour's weights;
3. per kind, a client slot (address + UA, same slot) and a request fragment per line;
4. each kind's fragments are interleaved back in line order and joined with the stamps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import chain, islice, repeat
from operator import mod

from generator.model import Model
from generator.nginx_format import hour_stamps
from generator.traffic import FilePlan, rng_for

# Lines rendered per piece handed to the compressor; bounds memory for huge files.
CHUNK_LINES = 1 << 16
_U16 = 1 << 16
_SECONDS_PER_HOUR = 3600
# uint16 -> second of the hour. Each second gets 18 or 19 of the 65,536 values, a
# +-3% unevenness at one-second resolution that no hourly or daily figure can see.
_SECOND_OF = [(i * _SECONDS_PER_HOUR) >> 16 for i in range(_U16)]


def _u16(rng_bytes: bytes) -> memoryview:
    # Native byte order: little-endian on every platform this runs on (x86-64, arm64).
    return memoryview(rng_bytes).cast("H")


def _u32(rng_bytes: bytes) -> memoryview:
    return memoryview(rng_bytes).cast("I")


def kind_table(weights: Sequence[float]) -> bytes:
    """65,536 bytes mapping a random uint16 to a kind index, in proportion to `weights`."""
    total = sum(weights)
    table = bytearray()
    acc = 0.0
    for kind, weight in enumerate(weights):
        acc += weight
        end = _U16 if kind == len(weights) - 1 else round(acc / total * _U16)
        table += bytes([kind]) * (end - len(table))
    return bytes(table)


def render(model: Model, plan: FilePlan, seed: int, offset_minutes: int) -> Iterator[bytes]:
    """The file's bytes in pieces of up to CHUNK_LINES lines, each line ending in `\\n`."""
    rng = rng_for(seed, "file", plan.utc_start.isoformat(), plan.part)
    stamps = [s.encode("ascii") for s in hour_stamps(plan.utc_start, offset_minutes)]
    per_second = Counter(map(_SECOND_OF.__getitem__, _u16(rng.randbytes(2 * plan.lines))))
    line_stamps = chain.from_iterable(
        map(repeat, stamps, [per_second[s] for s in range(_SECONDS_PER_HOUR)])
    )
    # Its own stream: adding timings leaves every other byte of a file as combined has it.
    timing_rng = rng_for(seed, "timing", plan.utc_start.isoformat(), plan.part)
    kind_of = kind_table(plan.kind_weights)
    for start in range(0, plan.lines, CHUNK_LINES):
        n = min(CHUNK_LINES, plan.lines - start)
        kinds = bytes(map(kind_of.__getitem__, _u16(rng.randbytes(2 * n))))
        heads, requests, agents = [], [], []
        for k, pop in enumerate(model.populations):
            count = kinds.count(k)
            size = len(pop.heads)
            # Bot tables have exactly 2^16 slots: a uint16 is a slot, no arithmetic.
            slots: Sequence[int] = (
                _u16(rng.randbytes(2 * count))
                if size == _U16
                else list(map(mod, _u32(rng.randbytes(4 * count)), repeat(size)))
            )
            heads.append(map(pop.heads.__getitem__, slots))
            agents.append(map(pop.agents.__getitem__, slots))
            requests.append(map(pop.requests.__getitem__, _u16(rng.randbytes(2 * count))))
        # Each kind's iterators are consumed in the order that kind appears in `kinds`.
        fragments = [
            map(next, map(heads.__getitem__, kinds)),
            islice(line_stamps, n),
            map(next, map(requests.__getitem__, kinds)),
            map(next, map(agents.__getitem__, kinds)),
        ]
        if model.tails:
            fragments.append(map(model.tails.__getitem__, _u16(timing_rng.randbytes(2 * n))))
        yield b"".join(chain.from_iterable(zip(*fragments, strict=True)))
