"""Spark standalone master and workers from the installed pyspark (same Spark as the driver).

Loopback: `--host` pins the RPC endpoints, and SPARK_LOCAL_IP pins the web UIs and the
executors the workers launch (they inherit the worker's environment).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

from core.properties import render_spark_defaults, spark_conf, spark_daemon_conf
from core.runtimes import local_stack
from local_stack import processes
from local_stack.service import SMALL_JVM_FLAGS, ManagedService, PortSpec

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
HISTORY_CLASS = "org.apache.spark.deploy.history.HistoryServer"


class SparkDaemon(ManagedService):
    """Common environment of the master, the workers and the History Server."""

    ready_timeout: ClassVar[float] = 60.0
    main_class: ClassVar[str] = ""

    @property
    def spark_dir(self) -> Path:
        return self.layout.root / "spark"

    @property
    def conf_dir(self) -> Path:
        return self.spark_dir / "conf"

    @property
    def defaults_file(self) -> Path:
        return self.conf_dir / "spark-defaults.conf"

    @property
    def event_dir(self) -> Path:
        return self.layout.root / "spark-events"

    def ui_url(self, port: int, path: str = "") -> str:
        return f"http://{self.host}:{port}{path}"

    def environment(self) -> dict[str, str]:
        return {
            "SPARK_HOME": str(self.tools.spark_home),
            "SPARK_CONF_DIR": str(self.conf_dir),
            "SPARK_LOCAL_IP": self.host,
            "SPARK_LOG_DIR": str(self.layout.logs),
            # Daemons need little heap; executors get LocalStackSettings.worker_memory.
            "SPARK_DAEMON_MEMORY": "512m",
            "SPARK_DAEMON_JAVA_OPTS": " ".join(SMALL_JVM_FLAGS),
            # Executors run Python workers as `python3` from PATH: make it this venv's.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        }

    def before_launch(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.event_dir.mkdir(parents=True, exist_ok=True)
        # The ETL's own properties plus the daemons' (core.properties, as on EKS): the file
        # doubles as SPARK_CONF_DIR for `spark-submit`/`pyspark` against the stack.
        conf = spark_conf(local_stack(self.stack)) | spark_daemon_conf(
            self.stack.spark_history_port
        )
        self.defaults_file.write_text(render_spark_defaults(conf))
        self.defaults_file.chmod(0o600)  # holds the (local-only) S3 keys

    def spark_class(self, *args: str) -> list[str]:
        return [str(self.tools.spark_home / "bin" / "spark-class"), self.main_class, *args]

    def master_json(self) -> dict[str, Any]:
        url = self.ui_url(self.stack.spark_master_ui_port, "/json/")
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response)


class SparkMaster(SparkDaemon):
    name = "spark-master"
    main_class = MASTER_CLASS

    def ports(self) -> list[PortSpec]:
        return [
            PortSpec(self.stack.spark_master_port, "spark_master_port"),
            PortSpec(self.stack.spark_master_ui_port, "spark_master_ui_port"),
        ]

    def endpoint(self) -> str:
        return (
            f"spark://{self.host}:{self.stack.spark_master_port}  "
            f"UI {self.ui_url(self.stack.spark_master_ui_port)}"
        )

    def command(self) -> list[str]:
        s = self.stack
        return self.spark_class(
            "--host",
            self.host,
            "--port",
            str(s.spark_master_port),
            "--webui-port",
            str(s.spark_master_ui_port),
            "--properties-file",
            str(self.defaults_file),
        )

    def answers(self) -> bool:
        try:
            return self.master_json().get("status") == "ALIVE"
        except (OSError, ValueError):
            return False


class SparkWorker(SparkDaemon):
    main_class = WORKER_CLASS
    name_prefix: ClassVar[str] = "spark-worker-"

    def __init__(self, stack: Any, index: int, tools: Any = None) -> None:
        super().__init__(stack, tools)
        self.index = index
        self.name = f"{self.name_prefix}{index}"

    @property
    def ui_port(self) -> int:
        return self.stack.spark_worker_ui_port + self.index - 1

    @property
    def work_dir(self) -> Path:
        return self.spark_dir / f"work-{self.index}"

    def ports(self) -> list[PortSpec]:
        # The worker's RPC port is an ephemeral one on loopback (nothing to configure).
        return [PortSpec(self.ui_port, "spark_worker_ui_port")]

    def endpoint(self) -> str:
        s = self.stack
        return f"{s.worker_cores} core(s), {s.worker_memory}  UI {self.ui_url(self.ui_port)}"

    def before_launch(self) -> None:
        super().before_launch()
        self.work_dir.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        s = self.stack
        return self.spark_class(
            "--host",
            self.host,
            "--webui-port",
            str(self.ui_port),
            "--cores",
            str(s.worker_cores),
            "--memory",
            s.worker_memory,
            "--work-dir",
            str(self.work_dir),
            "--properties-file",
            str(self.defaults_file),
            f"spark://{self.host}:{s.spark_master_port}",
        )

    def answers(self) -> bool:
        """Registered with the master and ALIVE (an open UI port is not enough)."""
        try:
            workers = self.master_json().get("workers", [])
        except (OSError, ValueError):
            return False
        suffix = f":{self.ui_port}"
        return any(
            w.get("state") == "ALIVE" and str(w.get("webuiaddress", "")).endswith(suffix)
            for w in workers
        )

    def worker_json(self) -> dict[str, Any]:
        """The worker's own JSON API: its executors (running and finished), with their app."""
        with urllib.request.urlopen(self.ui_url(self.ui_port, "/json/"), timeout=2) as response:
            return json.load(response)

    def decommission(self) -> bool:
        """SIGPWR to the worker JVM, what the pod's preStop hook sends (through tini, to
        the JVM only): Spark's graceful decommission (`spark.worker.decommission.signal`).
        The master stops scheduling on the worker and its executors hand their blocks over
        and exit; the worker process itself stays until it is stopped. False if not running.
        """
        rec = self.running()
        return rec is not None and processes.send_signal(rec, signal.SIGPWR)
