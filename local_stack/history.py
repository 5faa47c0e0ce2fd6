"""Spark History Server on loopback, reading the event-log directory the ETL writes to."""

from __future__ import annotations

import urllib.request

from local_stack.service import PortSpec
from local_stack.spark_standalone import HISTORY_CLASS, SparkDaemon


class SparkHistory(SparkDaemon):
    name = "spark-history"
    main_class = HISTORY_CLASS

    def ports(self) -> list[PortSpec]:
        return [PortSpec(self.stack.spark_history_port, "spark_history_port")]

    def endpoint(self) -> str:
        return f"{self.ui_url(self.stack.spark_history_port)}  (events: {self.event_dir})"

    def command(self) -> list[str]:
        # Port and log directory come from the rendered spark-defaults
        # (core.properties.spark_daemon_conf and spark_conf).
        return self.spark_class("--properties-file", str(self.defaults_file))

    def answers(self) -> bool:
        url = self.ui_url(self.stack.spark_history_port, "/api/v1/applications?limit=1")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False
