"""Ad hoc SQL with Spark (`lakehouse query --engine spark`): exactly what the ETL sees, at
the price of a session start. The JVM-free engine is readers.query."""

from __future__ import annotations

import contextlib
from typing import Any

import pyarrow as pa
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from core.errors import QueryError
from core.settings import Settings
from spark.session import build_session


def run_sql(settings: Settings, sql: str, spark: SparkSession | None = None) -> pa.Table:
    """Run one SQL statement with Spark SQL; unqualified names are lakehouse tables."""
    session: Any = spark or build_session(settings)
    before = session.catalog.currentCatalog(), session.catalog.currentDatabase()
    # Unqualified names resolve in the lakehouse namespace, as in the fast engine. A shared
    # session (tests, notebooks) gets its previous current namespace back afterwards.
    session.sql(f"USE {settings.catalog.name}.{settings.catalog.namespace}")
    try:
        return session.sql(sql).toArrow()
    except PySparkException as exc:
        raise QueryError.from_engine(str(exc)) from None
    finally:
        session.catalog.setCurrentCatalog(before[0])
        # e.g. "default" does not exist in an Iceberg catalog: then there is nothing to restore
        with contextlib.suppress(PySparkException):
            session.catalog.setCurrentDatabase(before[1])
