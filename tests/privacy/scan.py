"""Look for text everywhere a warehouse keeps data: raw bytes of every file (data, metadata
JSON, Avro manifests, the catalog database), every Parquet column decompressed, and the
lower/upper bounds of every entry of every manifest (decoded), read with pyarrow and
PyIceberg, not Spark."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow.parquet as pq

from core.names import Table
from core.settings import Settings
from readers.reading import catalog


def files(roots: Iterable[Path]) -> list[Path]:
    return sorted(p for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


def parquet_values(path: Path) -> Iterator[str]:
    """Every value of every column of every row group, as text."""
    parquet = pq.ParquetFile(path)
    for group in range(parquet.num_row_groups):
        table = parquet.read_row_group(group)
        for name in table.column_names:
            yield from (str(v) for v in table.column(name).to_pylist())


def manifest_bounds(settings: Settings) -> tuple[list[str], set[str]]:
    """Decoded bounds of every manifest entry (deleted entries too), and the manifests read."""
    bounds, read = [], set()
    for name in Table:
        table = catalog(settings).load_table(f"{settings.catalog.namespace}.{name}")
        for snapshot in table.metadata.snapshots:
            for manifest in snapshot.manifests(table.io):
                read.add(manifest.manifest_path)
                for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=False):
                    data_file = entry.data_file
                    for side in (data_file.lower_bounds or {}, data_file.upper_bounds or {}):
                        bounds.extend(v.decode("utf-8", "replace") for v in side.values())
    return bounds, read


def findings(settings: Settings, roots: Iterable[Path], needles: Iterable[str]) -> list[str]:
    """Where each needle occurs: 'needle in <file> (bytes|column|bounds)'."""
    needles = list(needles)
    found = []
    for path in files(roots):
        data = path.read_bytes()
        found += [f"{n!r} in {path} (bytes)" for n in needles if n.encode() in data]
        if path.suffix == ".parquet":
            text = "\n".join(parquet_values(path))
            found += [f"{n!r} in {path} (column values)" for n in needles if n in text]
    bounds, _ = manifest_bounds(settings)
    # Iceberg keeps the first 16 characters of a string as its bound: look for those too.
    found += [f"{n!r} in manifest bounds" for n in needles if any(n[:16] in b for b in bounds)]
    return found
