"""The config files pods read, rendered from `core.settings` / `core.properties`.

Nothing here decides a Spark, Hive or Iceberg property: the text is what the embedded
runtime and the local stack render from the same functions.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from core.errors import ConfigError
from core.properties import (
    MetastoreDatabase,
    metastore_site,
    render_hadoop_xml,
    render_java_options,
    render_spark_defaults,
    spark_conf,
    spark_daemon_conf,
)
from core.settings import (
    METASTORE_PORT,
    SPARK_MASTER_PORT,
    CatalogKind,
    Runtime,
    Settings,
    render_settings_toml,
)
from workloads import contract

# Where the files are mounted (each ConfigMap is a directory of its own).
SETTINGS_DIR = "/etc/lakehouse"
SETTINGS_FILE = "settings.toml"
SETTINGS_PATH = f"{SETTINGS_DIR}/{SETTINGS_FILE}"
SPARK_CONF_DIR = "/etc/spark/conf"
SPARK_DEFAULTS_FILE = "spark-defaults.conf"
METASTORE_CONF_DIR = "/etc/hive-metastore"
METASTORE_SITE_FILE = "metastore-site.xml"
# Where the metastore image keeps the RDS CA bundle (workloads/images/hive-metastore).
RDS_CA_BUNDLE = "/opt/hive-metastore/rds-ca-bundle.pem"


def _in_cluster_host(host: str, service: str) -> bool:
    """True if `host` names `service` in our namespace (short or fully qualified)."""
    qualified = contract.service_host(service)
    forms = {service, f"{service}.{contract.NAMESPACE}", f"{service}.{contract.NAMESPACE}.svc"}
    return host == qualified or host in forms


def check_settings(settings: Settings) -> Settings:
    """Fail `pulumi preview` with the setting's name if these settings cannot run here."""
    if settings.runtime is not Runtime.AWS:
        raise ConfigError(f"setting 'runtime': workloads need 'aws', got '{settings.runtime}'")
    catalog = urlsplit(settings.catalog.uri)
    if (
        settings.catalog.kind is not CatalogKind.HIVE
        or catalog.scheme != "thrift"
        or not _in_cluster_host(catalog.hostname or "", contract.METASTORE_SERVICE)
        or catalog.port != METASTORE_PORT
    ):
        raise ConfigError(
            f"setting 'catalog.uri': must be the in-cluster metastore "
            f"thrift://{contract.service_host(contract.METASTORE_SERVICE)}:{METASTORE_PORT} "
            f"(kind hive), got {settings.catalog.uri!r} (kind {settings.catalog.kind})"
        )
    master = urlsplit(settings.spark.master)
    if (
        master.scheme != "spark"
        or not _in_cluster_host(master.hostname or "", contract.SPARK_MASTER_SERVICE)
        or master.port != SPARK_MASTER_PORT
    ):
        raise ConfigError(
            f"setting 'spark.master': must be the in-cluster master "
            f"spark://{contract.service_host(contract.SPARK_MASTER_SERVICE)}:{SPARK_MASTER_PORT}, "
            f"got {settings.spark.master!r}"
        )
    if settings.storage.s3.access_key or settings.storage.s3.secret_key:
        # The settings file is a ConfigMap: keys would be readable by anyone who can read it.
        raise ConfigError(
            "setting 'storage.s3.access_key': static keys are not allowed on EKS "
            "(pods get credentials from IRSA; the settings file is a ConfigMap)"
        )
    if not settings.spark.event_log_dir:
        raise ConfigError("setting 'spark.event_log_dir': required (the History Server reads it)")
    return settings


def spark_defaults(settings: Settings) -> str:
    return render_spark_defaults(spark_conf(settings))


def spark_daemon_java_options() -> str:
    """SPARK_DAEMON_JAVA_OPTS of the master, the workers and the History Server.

    The daemons' own properties (core.properties.spark_daemon_conf, which the local stack
    renders into its spark-defaults) go in as -D flags, so the spark-defaults ConfigMap
    stays exactly the ETL session's properties.
    """
    return render_java_options(spark_daemon_conf(contract.SPARK_HISTORY_UI_PORT))


def settings_toml(settings: Settings) -> str:
    return render_settings_toml(settings)


def jdbc_url(host: str, port: int | float, database: str) -> str:
    # RDS refuses unencrypted connections (rds.force_ssl=1); verify-full also checks that
    # the server's certificate is signed by an RDS CA (the bundle in the image) and names
    # this host, so nothing in between can pose as the database.
    return (
        f"jdbc:postgresql://{host}:{int(port)}/{database}"
        f"?sslmode=verify-full&sslrootcert={RDS_CA_BUNDLE}"
    )


def metastore_site_xml(settings: Settings, url: str, user: str) -> str:
    db = MetastoreDatabase(jdbc_url=url, user=user)  # password: ${env.METASTORE_DB_PASSWORD}
    return render_hadoop_xml(metastore_site(settings, db, METASTORE_PORT))
