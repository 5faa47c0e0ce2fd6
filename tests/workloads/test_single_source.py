"""One source of settings: the cluster's config files are exactly what core.settings /
core.properties render for the same Settings, and its ports are the settings' ports."""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

import pytest
from pydantic import SecretStr

from core import runtimes
from core.errors import ConfigError
from core.properties import (
    METASTORE_DEFAULT_CREDENTIALS,
    MetastoreDatabase,
    metastore_site,
    render_hadoop_xml,
    render_spark_defaults,
    spark_conf,
)
from core.settings import (
    METASTORE_PORT,
    SPARK_MASTER_PORT,
    SPARK_UI_PORT,
    EtlSettings,
    S3Settings,
    Settings,
    render_settings_toml,
)
from tests.pulumi_mocks import Deployment, Registered, deploy
from tests.workloads.conftest import DB_HOST, DB_PORT, aws_settings, workloads_program
from tests.workloads.pods import container, pod_of, volume_sources
from workloads import config_files, contract


def config_map_mounted_at(deployment: Deployment, kind: str, name: str, path: str) -> Registered:
    """The ConfigMap a workload mounts at `path` (its first container's mount)."""
    pod = pod_of(deployment, kind, name)
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    config_map = volume_sources(pod)[mounts[path]]["configMap"]["name"]
    return deployment.named("ConfigMap", config_map)


def test_spark_defaults_is_render_spark_defaults_of_spark_conf(
    deployment: Deployment, settings: Settings
) -> None:
    expected = render_spark_defaults(spark_conf(settings))
    for kind, name in [
        ("Deployment", "spark-master"),
        ("Deployment", "spark-worker"),
        ("Deployment", "spark-history"),
        ("CronJob", "etl"),
    ]:
        config_map = config_map_mounted_at(deployment, kind, name, config_files.SPARK_CONF_DIR)
        assert config_map.manifest()["data"] == {"spark-defaults.conf": expected}, name


def test_settings_file_is_render_settings_toml(deployment: Deployment, settings: Settings) -> None:
    for name in ("etl", "generator"):
        config_map = config_map_mounted_at(deployment, "CronJob", name, config_files.SETTINGS_DIR)
        assert config_map.manifest()["data"] == {"settings.toml": render_settings_toml(settings)}


def test_jobs_read_the_mounted_settings_file(deployment: Deployment) -> None:
    path = PurePosixPath(config_files.SETTINGS_DIR) / "settings.toml"
    etl = container(deployment, "CronJob", "etl", "driver")["command"]
    generator = container(deployment, "CronJob", "generator", "generator")["command"]
    assert etl == ["/usr/bin/tini", "--", "lakehouse", "etl", "--config", str(path)]
    assert generator == ["python", "-m", "generator", "--config", str(path)]


def test_metastore_site_is_metastore_site(deployment: Deployment, settings: Settings) -> None:
    config_map = config_map_mounted_at(
        deployment, "Deployment", "hive-metastore", config_files.METASTORE_CONF_DIR
    )
    database = MetastoreDatabase(
        jdbc_url=(
            f"jdbc:postgresql://{DB_HOST}:{DB_PORT}/metastore"
            "?sslmode=verify-full&sslrootcert=/opt/hive-metastore/rds-ca-bundle.pem"
        ),
        user="hive",
    )
    props = metastore_site(settings, database, METASTORE_PORT)
    # Hadoop 3.3.6 in the metastore image takes SDK v1 credential classes (IRSA via STS).
    assert props["fs.s3a.aws.credentials.provider"] == METASTORE_DEFAULT_CREDENTIALS
    assert config_map.manifest()["data"] == {"metastore-site.xml": render_hadoop_xml(props)}


def test_container_ports_are_the_settings_ports(deployment: Deployment) -> None:
    def ports(kind: str, name: str, container_name: str) -> dict[str, int]:
        found = container(deployment, kind, name, container_name)["ports"]
        return {p["name"]: p["containerPort"] for p in found}

    assert ports("Deployment", "hive-metastore", "metastore") == {"thrift": METASTORE_PORT}
    assert ports("Deployment", "spark-master", "master") == {
        "spark": SPARK_MASTER_PORT,
        "http": SPARK_UI_PORT,
    }
    assert ports("Deployment", "spark-worker", "worker") == {"http": contract.SPARK_WORKER_UI_PORT}
    assert ports("Deployment", "spark-history", "history") == {
        "http": contract.SPARK_HISTORY_UI_PORT
    }
    master_args = container(deployment, "Deployment", "spark-master", "master")["args"]
    assert master_args[master_args.index("--port") + 1] == str(SPARK_MASTER_PORT)
    assert master_args[master_args.index("--webui-port") + 1] == str(SPARK_UI_PORT)


def test_services_expose_the_settings_ports_under_the_contract_names(
    deployment: Deployment,
) -> None:
    def ports(name: str) -> set[tuple[int, str]]:
        spec = deployment.named("Service", name).manifest()["spec"]
        return {(p["port"], p["targetPort"]) for p in spec["ports"]}

    assert ports(contract.METASTORE_SERVICE) == {(METASTORE_PORT, "thrift")}
    assert ports(contract.SPARK_MASTER_SERVICE) == {
        (SPARK_MASTER_PORT, "spark"),
        (SPARK_UI_PORT, "http"),
    }
    assert ports(contract.SPARK_HISTORY_SERVICE) == {(contract.SPARK_HISTORY_UI_PORT, "http")}


def test_workers_join_the_master_the_settings_name(
    deployment: Deployment, settings: Settings
) -> None:
    args = container(deployment, "Deployment", "spark-worker", "worker")["args"]
    assert args[-1] == settings.spark.master
    assert settings.spark.master == (
        f"spark://{contract.service_host(contract.SPARK_MASTER_SERVICE)}:{SPARK_MASTER_PORT}"
    )


@pytest.mark.parametrize(
    ("settings", "setting"),
    [
        (runtimes.embedded(Path("/tmp/lakehouse-embedded")), "runtime"),
        (aws_settings(metastore_host="metastore.example.com"), "catalog.uri"),
        (aws_settings(spark_master_host="10.0.0.1"), "spark.master"),
        (
            aws_settings().model_copy(
                update={
                    "storage": aws_settings().storage.model_copy(
                        update={
                            "s3": S3Settings(access_key=SecretStr("a"), secret_key=SecretStr("b"))
                        }
                    )
                }
            ),
            "storage.s3.access_key",
        ),
        (
            aws_settings().model_copy(
                update={"spark": aws_settings().spark.model_copy(update={"event_log_dir": None})}
            ),
            "spark.event_log_dir",
        ),
    ],
    ids=["embedded", "foreign-metastore", "foreign-master", "static-keys", "no-event-logs"],
)
def test_settings_that_cannot_run_in_the_cluster_fail_naming_the_setting(
    settings: Settings, setting: str
) -> None:
    with pytest.raises(ConfigError, match=f"setting '{setting}'"):
        config_files.check_settings(settings)


def test_bad_settings_stop_the_deployment() -> None:
    with pytest.raises(ConfigError, match=r"setting 'catalog\.uri'"):
        deploy(workloads_program(aws_settings(metastore_host="elsewhere")))


def test_short_service_names_are_accepted() -> None:
    short = aws_settings(
        metastore_host=contract.METASTORE_SERVICE, spark_master_host=contract.SPARK_MASTER_SERVICE
    )
    assert config_files.check_settings(short) is short


# The standalone daemons' own properties, written down by hand: what both runtimes must get.
DAEMON_PROPERTIES = {
    "spark.master.rest.enabled": "false",
    "spark.decommission.enabled": "true",
    "spark.worker.decommission.signal": "PWR",
    "spark.worker.cleanup.enabled": "true",
    "spark.worker.cleanup.appDataTtl": "86400",
    "spark.history.fs.update.interval": "5s",
}


def java_options(value: str) -> dict[str, str]:
    flags = value.split()
    assert all(f.startswith("-D") for f in flags), value
    return dict(f[2:].split("=", 1) for f in flags)


@pytest.mark.parametrize(
    ("name", "container_name"),
    [("spark-master", "master"), ("spark-worker", "worker"), ("spark-history", "history")],
)
def test_cluster_daemons_get_the_daemon_properties(
    deployment: Deployment, name: str, container_name: str
) -> None:
    env = {
        e["name"]: e.get("value")
        for e in container(deployment, "Deployment", name, container_name)["env"]
    }
    assert java_options(env["SPARK_DAEMON_JAVA_OPTS"]) == {
        **DAEMON_PROPERTIES,
        "spark.history.ui.port": str(contract.SPARK_HISTORY_UI_PORT),
    }
    # The worker's cleanup used to come from its own SPARK_WORKER_OPTS, a second source.
    assert "SPARK_WORKER_OPTS" not in env


def test_local_stack_daemons_get_the_same_daemon_properties(tmp_path: Path) -> None:
    from core.settings import LocalStackSettings
    from local_stack.spark_standalone import SparkMaster

    stack = LocalStackSettings(data_dir=tmp_path)
    master = SparkMaster(stack)
    master.before_launch()
    lines = master.defaults_file.read_text().splitlines()
    written = dict(line.split(" ", 1) for line in lines)
    expected = {**DAEMON_PROPERTIES, "spark.history.ui.port": str(stack.spark_history_port)}
    assert {k: written[k] for k in expected} == expected


def test_etl_log_format_reaches_the_jobs_config_map() -> None:
    fmt = '$host $remote_addr [$time_local] "$request" $status $body_bytes_sent "$http_x_a"'
    settings = aws_settings(etl=EtlSettings(log_format=fmt))
    deployment = deploy(workloads_program(settings))
    config_map = config_map_mounted_at(deployment, "CronJob", "etl", config_files.SETTINGS_DIR)
    rendered = config_map.manifest()["data"]["settings.toml"]
    assert tomllib.loads(rendered)["etl"]["log_format"] == fmt
