"""Hive Metastore 3.1.3 on the stack's PostgreSQL, thrift on loopback only.

Configuration comes from `core.properties.metastore_site` (the EKS ConfigMap renders
the same function), so the two cannot drift. The schema is created by schematool the
first time only: the `VERSION` table in the metastore database says whether it exists.

Loopback: Hive 3.1.3 always binds the thrift port on the wildcard address. The stack puts a
recompiled `SecurityUtils` (see `setup.py`) first on the classpath; it binds the address
given by -Dlakehouse.metastore.bind.host.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import ClassVar

from core.errors import ServiceUnavailable
from core.properties import MetastoreDatabase, metastore_site, render_hadoop_xml
from core.runtimes import local_stack
from core.settings import LocalStackSettings
from local_stack.postgres import Postgres
from local_stack.processes import log_tail, tcp_answers
from local_stack.service import SMALL_JVM_FLAGS, ManagedService, PortSpec
from local_stack.setup import BIND_PROPERTY, Toolchain

MAIN_CLASS = "org.apache.hadoop.hive.metastore.HiveMetaStore"
SCHEMA_TOOL = "org.apache.hadoop.hive.metastore.tools.MetastoreSchemaTool"
PASSWORD_ENV = "METASTORE_DB_PASSWORD"

# Console only: the process's stdout is the stack's log file for this service.
LOG4J2 = """\
status = WARN
name = LocalStackMetastore
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_OUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{ISO8601} %5p [%t] %c{2}: %m%n
logger.DataNucleus.name = DataNucleus
logger.DataNucleus.level = ERROR
logger.Datastore.name = Datastore
logger.Datastore.level = ERROR
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = console
"""


class Metastore(ManagedService):
    name = "metastore"
    ready_timeout: ClassVar[float] = 120.0
    schema_timeout: ClassVar[float] = 300.0

    def __init__(
        self, stack: LocalStackSettings, postgres: Postgres, tools: Toolchain | None = None
    ) -> None:
        super().__init__(stack, tools)
        self.postgres = postgres

    @property
    def conf_dir(self) -> Path:
        return self.layout.root / "metastore" / "conf"

    def ports(self) -> list[PortSpec]:
        return [PortSpec(self.stack.metastore_port, "metastore_port")]

    def endpoint(self) -> str:
        return f"thrift://{self.host}:{self.stack.metastore_port}"

    def site(self) -> dict[str, str]:
        db = MetastoreDatabase(jdbc_url=self.postgres.jdbc_url(), user=self.stack.metastore_db_user)
        return metastore_site(local_stack(self.stack), db, self.stack.metastore_port)

    def environment(self) -> dict[str, str]:
        return {
            "METASTORE_HOME": str(self.tools.metastore_home),  # schematool fails without it
            PASSWORD_ENV: self.stack.metastore_db_password,
        }

    def _java(self, main: str, heap: str) -> list[str]:
        return [
            self.tools.java,
            f"-Xmx{heap}",
            *SMALL_JVM_FLAGS,
            f"-D{BIND_PROPERTY}={self.host}",
            "-cp",
            self.tools.metastore_classpath(self.conf_dir),
            main,
        ]

    def before_launch(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "metastore-site.xml").write_text(render_hadoop_xml(self.site()))
        (self.conf_dir / "metastore-log4j2.properties").write_text(LOG4J2)
        if self.postgres.metastore_schema_version() is None:
            self.init_schema()

    def init_schema(self) -> None:
        log = self.layout.log("metastore-schematool")
        log.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ) | self.environment()
        with log.open("ab") as out:
            try:
                result = subprocess.run(
                    [*self._java(SCHEMA_TOOL, "512m"), "-dbType", "postgres", "-initSchema"],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self.layout.root,
                    timeout=self.schema_timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise ServiceUnavailable(
                    f"metastore schematool did not finish in {self.schema_timeout:.0f} s; see {log}"
                ) from None
        if result.returncode != 0:
            raise ServiceUnavailable(
                f"metastore schematool -initSchema failed (exit {result.returncode}): "
                f"{log_tail(log, 3)} (full log: {log})"
            )

    def command(self) -> list[str]:
        return [*self._java(MAIN_CLASS, "512m"), "-p", str(self.stack.metastore_port)]

    def answers(self) -> bool:
        """A real thrift call, not just an open port: the handler and its DB pool work."""
        if not tcp_answers(self.host, self.stack.metastore_port):
            return False  # (thrift's TSocket would log an error line per attempt)
        from hive_metastore.ThriftHiveMetastore import Client
        from thrift.protocol import TBinaryProtocol
        from thrift.transport import TSocket, TTransport

        sock = TSocket.TSocket(self.host, self.stack.metastore_port)
        sock.setTimeout(5000)
        transport = TTransport.TBufferedTransport(sock)
        try:
            transport.open()
            Client(TBinaryProtocol.TBinaryProtocol(transport)).get_all_databases()
            return True
        except Exception:
            return False
        finally:
            transport.close()
