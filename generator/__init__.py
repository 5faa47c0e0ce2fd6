"""Synthetic nginx `combined` access logs, gzip, in the raw layout of
docs/architecture.md ("Raw input").

    from generator import TrafficSpec, generate
    generate(TrafficSpec(start=date(2024, 10, 7), days=3, lines=1_000_000), "s3://input")

Output is deterministic: the same spec gives byte-identical files, with any number of
workers. See generator/traffic.py for the traffic model and generator/writer.py for
destinations and compression.
"""

from generator.traffic import TrafficSpec
from generator.writer import GenerateResult, generate

__all__ = ["GenerateResult", "TrafficSpec", "generate"]
