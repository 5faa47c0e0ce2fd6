"""Read Iceberg tables without a JVM, through PyIceberg and the same catalog settings.

Used to print reports quickly and, in tests, as a reader independent of Spark.
"""

from __future__ import annotations

import pyarrow as pa
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import NoSuchTableError

from core.errors import InputError
from core.properties import pyiceberg_properties
from core.settings import Settings


def catalog(settings: Settings) -> Catalog:
    return load_catalog(settings.catalog.name, **pyiceberg_properties(settings))


def read_table(settings: Settings, name: str, row_filter: str = "") -> pa.Table:
    identifier = f"{settings.catalog.namespace}.{name}"
    try:
        table = catalog(settings).load_table(identifier)
    except NoSuchTableError:
        raise InputError(f"table {identifier} does not exist yet: run the ETL first") from None
    scan = table.scan(row_filter=row_filter) if row_filter else table.scan()
    return scan.to_arrow()
