"""Read Iceberg tables without a JVM, through PyIceberg and the same catalog settings.

Used to print reports quickly and, in tests, as a reader independent of Spark.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
from pyiceberg.table import Table
from sqlalchemy.exc import SQLAlchemyError

from core.errors import InputError
from core.preflight import check_reachable
from core.properties import pyiceberg_properties
from core.settings import CatalogKind, Settings

NEXT_STEP = "run `lakehouse etl` or `lakehouse demo` first"


def catalog(settings: Settings) -> Catalog:
    """The settings' catalog, opened for reading; never creates a catalog file."""
    if settings.catalog.kind is CatalogKind.SQLITE:
        return _sqlite_catalog(settings, Path(settings.catalog.uri))
    # The metastore and the object store: a refused connection is a line naming the service,
    # not a thrift or botocore stack trace from the first call.
    check_reachable(settings, spark=False)
    return load_catalog(settings.catalog.name, **pyiceberg_properties(settings))


def _sqlite_catalog(settings: Settings, path: Path) -> Catalog:
    # PyIceberg would create an empty catalog file (or fail with "unable to open database
    # file" when the directory is missing): a reader must not, and "nothing ran yet" is the
    # usual cause.
    if not path.exists():
        raise InputError(f"no lakehouse at {path.parent} yet (no catalog {path.name}): {NEXT_STEP}")
    try:
        return load_catalog(settings.catalog.name, **pyiceberg_properties(settings))
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        raise InputError(
            f"cannot read the catalog {path}: {cause}: restore it, or move it away and "
            "run `lakehouse etl` to start a new lakehouse"
        ) from None


def check_lakehouse(settings: Settings, *tables: str) -> None:
    """Fail with the next step if there is no lakehouse (or no such table) yet.

    For commands that start a JVM: PyIceberg answers in milliseconds, before Spark starts.
    """
    catalog(settings)
    for name in tables:
        load_table(settings, name)


def load_table(settings: Settings, name: str) -> Table:
    identifier = f"{settings.catalog.namespace}.{name}"
    try:
        return catalog(settings).load_table(identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        raise InputError(f"table {identifier} does not exist yet: {NEXT_STEP}") from None


def table_names(settings: Settings) -> set[str]:
    """The tables of the lakehouse namespace (none before the first ETL run)."""
    try:
        listed = catalog(settings).list_tables(settings.catalog.namespace)
    except NoSuchNamespaceError:
        return set()
    return {name for _, name in listed}


def read_table(settings: Settings, name: str, row_filter: str = "") -> pa.Table:
    table = load_table(settings, name)
    scan = table.scan(row_filter=row_filter) if row_filter else table.scan()
    return scan.to_arrow()
