"""PostgreSQL for the Hive Metastore: Debian's server binaries, own cluster under the data dir.

PostgreSQL refuses to run as root, so as root the cluster directory belongs to `postgres`
and the server runs as that user (docs/decisions/0007). TCP listens on loopback only and requires
a password (scram); the Unix socket lives in a private directory and is used for admin.
"""

from __future__ import annotations

import os
import pwd
import re
import signal
import subprocess
from pathlib import Path
from typing import ClassVar

from core.errors import EnvironmentProblem, ServiceUnavailable
from local_stack.service import ManagedService, PortSpec
from local_stack.setup import find_pg_bindir

SERVICE_USER = "postgres"
SUPERUSER = "postgres"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Postgres(ManagedService):
    name = "postgres"
    run_as = SERVICE_USER
    ready_timeout: ClassVar[float] = 30.0
    # SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for the
    # metastore's pooled connections to close, i.e. until the kill timeout.
    stop_signal: ClassVar[signal.Signals] = signal.SIGINT
    signal_group: ClassVar[bool] = False

    @property
    def root(self) -> Path:
        return self.layout.root / "postgres"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def ports(self) -> list[PortSpec]:
        return [PortSpec(self.stack.postgres_port, "postgres_port")]

    def endpoint(self) -> str:
        s = self.stack
        return f"postgresql://{s.metastore_db_user}@{self.host}:{s.postgres_port}/{s.metastore_db}"

    def jdbc_url(self) -> str:
        return f"jdbc:postgresql://{self.host}:{self.stack.postgres_port}/{self.stack.metastore_db}"

    def command(self) -> list[str]:
        return [
            str(find_pg_bindir() / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.stack.postgres_port),
            "-c",
            f"listen_addresses={self.host}",
            "-c",
            f"unix_socket_directories={self.socket_dir}",
            "-c",
            "logging_collector=off",
            # Hive Metastore 3.1 fills four HikariCP pools of 10 connections at once (two for
            # DataNucleus, two for locks and transactions): 40, more than 40 minus the 3 slots
            # kept for superusers. A small cluster otherwise, to save memory.
            "-c",
            "max_connections=60",
            "-c",
            "shared_buffers=32MB",
        ]

    def before_launch(self) -> None:
        for name in (self.stack.metastore_db, self.stack.metastore_db_user):
            if not _IDENT.match(name):
                raise EnvironmentProblem(
                    f"metastore database/user name {name!r} must be a lower-case identifier "
                    "(LocalStackSettings.metastore_db / metastore_db_user)"
                )
        user = self.effective_user()
        for path in (self.root, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o700)
            if user:
                entry = pwd.getpwnam(user)
                os.chown(path, entry.pw_uid, entry.pw_gid)
        if user:
            self._check_reachable(user)
        if not (self.data / "PG_VERSION").exists():
            self._initdb(user)

    def _check_reachable(self, user: str) -> None:
        probe = subprocess.run(
            ["test", "-w", str(self.root)], user=user, check=False, capture_output=True
        )
        if probe.returncode != 0:
            raise EnvironmentProblem(
                f"user {user!r} cannot reach {self.root} (PostgreSQL runs as {user!r} when you "
                "are root): make every parent directory traversable (chmod o+x) or use a "
                "data_dir under such a path (LocalStackSettings.data_dir)"
            )

    def _initdb(self, user: str | None) -> None:
        result = subprocess.run(
            [
                str(find_pg_bindir() / "initdb"),
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C",
                # Socket: trusted, but its directory is private to the service user.
                # TCP (loopback): password required, and the superuser has none.
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ],
            user=user,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise EnvironmentProblem(
                f"initdb failed for {self.data}: {result.stderr.strip().splitlines()[-1:]} "
                f"(delete {self.data} if it is a half-made cluster)"
            )

    def answers(self) -> bool:
        ready = subprocess.run(
            [
                str(find_pg_bindir() / "pg_isready"),
                "-q",
                "-t",
                "1",
                "-h",
                self.host,
                "-p",
                str(self.stack.postgres_port),
            ],
            check=False,
        )
        return ready.returncode == 0

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the private socket; stdout (tuples only)."""
        result = subprocess.run(
            [
                str(find_pg_bindir() / "psql"),
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.stack.postgres_port),
                "-U",
                SUPERUSER,
                "-d",
                database,
            ],
            input=sql,
            user=self.effective_user(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceUnavailable(
                f"psql on {database} failed: {result.stderr.strip()} (see {self.log_path})"
            )
        return result.stdout.strip()

    def after_ready(self) -> None:
        """Create (or re-password) the metastore role and database; safe to repeat."""
        s = self.stack
        user, db, pw = s.metastore_db_user, s.metastore_db, _literal(s.metastore_db_password)
        # Passed on stdin, not argv, so the password does not show up in `ps`.
        self.psql(
            f"SELECT 'CREATE ROLE {user} LOGIN' WHERE NOT EXISTS "
            f"(SELECT FROM pg_roles WHERE rolname = '{user}') \\gexec\n"
            f"ALTER ROLE {user} LOGIN PASSWORD {pw};\n"
            f"SELECT 'CREATE DATABASE {db} OWNER {user}' WHERE NOT EXISTS "
            f"(SELECT FROM pg_database WHERE datname = '{db}') \\gexec\n"
        )

    def metastore_schema_version(self) -> str | None:
        """The Hive schema version recorded in the metastore database, None if not created."""
        exists = self.psql(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_name = 'VERSION';",
            database=self.stack.metastore_db,
        )
        if exists != "1":
            return None
        version = self.psql(
            'SELECT "SCHEMA_VERSION" FROM "VERSION" LIMIT 1;', database=self.stack.metastore_db
        )
        return version or None
