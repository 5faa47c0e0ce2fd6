"""Stack configuration, read once from `pulumi.Config` into a typed, validated object.

Defaults and types are declared in `Pulumi.yaml`; each stack overrides them in
`Pulumi.<stack>.yaml`. Every key is *required* here on purpose: the CLI fills in the
declared defaults, so a key read here but missing from `Pulumi.yaml` fails at once instead
of silently taking a second, divergent default in Python. Other modules receive a
`StackConfig`, never a `pulumi.Config`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import pulumi
import pulumi_aws as aws
from pydantic import ValidationError

from core.settings import EtlSettings, ReportSettings, RetentionSettings
from workloads.sizing import NODE_TYPES

# RDS rejects these characters in a master password.
_FORBIDDEN_PASSWORD_CHARS = frozenset('/@" ')
_MIN_PASSWORD_LENGTH = 16


class StackConfigError(pulumi.RunError):
    """A stack setting is missing or invalid (RunError: Pulumi prints it without a traceback)."""


# Families with CPU credits, a baseline and a credit mode (infra/cluster.py sets the mode).
BURSTABLE_FAMILIES = ("t3", "t3a", "t4g")


def burstable(instance_types: Sequence[str]) -> bool:
    return all(t.split(".")[0] in BURSTABLE_FAMILIES for t in instance_types)


@dataclass(frozen=True)
class NodeGroupConfig:
    instance_types: tuple[str, ...]
    min_nodes: int
    max_nodes: int


@dataclass(frozen=True)
class DatabaseConfig:
    instance_class: str
    engine_version: str
    allocated_storage_gb: int
    multi_az: bool
    backup_retention_days: int
    password: pulumi.Output[str]


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    region: str
    vpc_cidr: str
    nat_gateway_per_az: bool
    kubernetes_version: str
    api_allowed_cidrs: tuple[str, ...]
    admin_principal_arns: tuple[str, ...]
    control_plane_log_types: tuple[str, ...]
    system_nodes: NodeGroupConfig
    spark_nodes: NodeGroupConfig
    cluster_autoscaler_chart_version: str
    cluster_autoscaler_image_tag: str
    metrics_server_chart_version: str
    database: DatabaseConfig
    # `pulumi destroy` refuses up front (Pulumi `protect` on the database and the buckets,
    # RDS deletion protection; bucket force_destroy and ECR force_delete off).
    protect_data: bool
    # `pulumi destroy` leaves the data behind: a final RDS snapshot (and the automated
    # backups), the buckets (retain_on_delete). Independent of protect_data, so lifting the
    # protection to tear a stack down does not also throw the data away.
    keep_data_on_destroy: bool
    raw_log_retention_days: int
    noncurrent_version_retention_days: int
    # The ETL and maintenance settings of the cluster's settings ConfigMap (core.settings).
    etl: EtlSettings
    retention: RetentionSettings
    reports: ReportSettings

    @property
    def cluster_name(self) -> str:
        # Fixed (not auto-named) because the Cluster Autoscaler discovers node groups by a
        # tag containing it, and users type it in `aws eks update-kubeconfig`.
        return f"{self.project}-{self.stack}"


def load_config() -> StackConfig:
    """Read and validate the current stack's configuration."""
    try:
        config = _read()
    except (pulumi.ConfigMissingError, pulumi.ConfigTypeError) as exc:
        raise StackConfigError(str(exc)) from None
    _check(config)
    return config


def _read() -> StackConfig:
    cfg = pulumi.Config()
    cfg_aws = pulumi.Config("aws")

    def strings(key: str) -> tuple[str, ...]:
        value = cfg.require_object(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise StackConfigError(f"config '{key}' must be a list of strings (got {value!r})")
        return tuple(value)

    def node_group(prefix: str) -> NodeGroupConfig:
        group = NodeGroupConfig(
            instance_types=strings(f"{prefix}InstanceTypes"),
            min_nodes=cfg.require_int(f"{prefix}MinNodes"),
            max_nodes=cfg.require_int(f"{prefix}MaxNodes"),
        )
        _check_node_group(prefix, group)
        return group

    return StackConfig(
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        region=cfg_aws.require("region"),
        vpc_cidr=cfg.require("vpcCidr"),
        nat_gateway_per_az=cfg.require_bool("natGatewayPerAz"),
        kubernetes_version=cfg.require("kubernetesVersion"),
        api_allowed_cidrs=strings("apiAllowedCidrs"),
        admin_principal_arns=strings("adminPrincipalArns"),
        control_plane_log_types=strings("controlPlaneLogTypes"),
        system_nodes=node_group("system"),
        spark_nodes=node_group("spark"),
        cluster_autoscaler_chart_version=cfg.require("clusterAutoscalerChartVersion"),
        cluster_autoscaler_image_tag=cfg.require("clusterAutoscalerImageTag"),
        metrics_server_chart_version=cfg.require("metricsServerChartVersion"),
        database=DatabaseConfig(
            instance_class=cfg.require("dbInstanceClass"),
            engine_version=cfg.require("dbEngineVersion"),
            allocated_storage_gb=cfg.require_int("dbAllocatedStorageGb"),
            multi_az=cfg.require_bool("dbMultiAz"),
            backup_retention_days=cfg.require_int("dbBackupRetentionDays"),
            password=cfg.require_secret("metastoreDbPassword").apply(_checked_password),
        ),
        protect_data=cfg.require_bool("protectData"),
        keep_data_on_destroy=cfg.require_bool("keepDataOnDestroy"),
        raw_log_retention_days=cfg.require_int("rawLogRetentionDays"),
        noncurrent_version_retention_days=cfg.require_int("noncurrentVersionRetentionDays"),
        etl=_model(
            EtlSettings,
            {
                "logFormat": cfg.require("logFormat"),
                "clientIp": cfg.require("clientIp"),
                "clientIpv4Prefix": cfg.require_int("clientIpv4Prefix"),
                "clientIpv6Prefix": cfg.require_int("clientIpv6Prefix"),
                "redactQueryParams": strings("redactQueryParams"),
                "slowRequestMs": _slow_request_seconds(cfg.require_int("slowRequestMs")),
            },
        ),
        reports=_model(ReportSettings, {"siteHosts": strings("siteHosts")}),
        retention=_model(
            RetentionSettings,
            # 0 (an integer key cannot be unset in Pulumi.yaml) is the model's None: forever.
            {key: cfg.require_int(key) or None for key in SETTINGS_KEYS if key.startswith("ret")},
        ),
    )


# Stack keys -> fields of the lakehouse settings model (core/settings.py), which validates
# them with the same rules and messages as a settings file, naming the Pulumi key instead.
SETTINGS_KEYS = {
    "logFormat": "log_format",
    "clientIp": "client_ip",
    "clientIpv4Prefix": "ipv4_prefix",
    "clientIpv6Prefix": "ipv6_prefix",
    "redactQueryParams": "redact_query_params",
    "slowRequestMs": "slow_request_seconds",
    "siteHosts": "site_hosts",
    "retentionAccessLogsDays": "access_logs_days",
    "retentionRejectedLinesDays": "rejected_lines_days",
    "retentionReportsDays": "reports_days",
}


_Model = TypeVar("_Model", EtlSettings, RetentionSettings, ReportSettings)


def _model(model: type[_Model], values: dict[str, object]) -> _Model:
    try:
        return model.model_validate({SETTINGS_KEYS[k]: v for k, v in values.items()})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else ""
        key = next((k for k, f in SETTINGS_KEYS.items() if f == field and k in values), field)
        raise StackConfigError(f"config '{key}': {err['msg']}") from None


def _slow_request_seconds(ms: int) -> float:
    # An integer key (a Pulumi.yaml config type is string, integer, boolean or array); the
    # model holds seconds, so its bounds are checked here in the key's own unit.
    if not 1 <= ms <= 3_600_000:
        raise StackConfigError(f"config 'slowRequestMs' must be 1..3600000 milliseconds (got {ms})")
    return ms / 1000


def _check_node_group(prefix: str, group: NodeGroupConfig) -> None:
    if not group.instance_types:
        raise StackConfigError(f"config '{prefix}InstanceTypes' must name at least one type")
    if not 1 <= group.min_nodes <= group.max_nodes:
        raise StackConfigError(
            f"config '{prefix}MinNodes'/'{prefix}MaxNodes' must satisfy 1 <= min <= max "
            f"(got {group.min_nodes}..{group.max_nodes})"
        )
    # The autoscaler treats a node group as identical nodes and Spark workers are sized from
    # the first type, so several types are welcome (more spot pools) but only if they have
    # the same vCPUs and memory. Specs come from the table the workloads size pods with.
    unknown = [t for t in group.instance_types if t not in NODE_TYPES]
    if unknown:
        raise StackConfigError(
            f"config '{prefix}InstanceTypes': {', '.join(unknown)} not in workloads/sizing.py "
            "NODE_TYPES; add its vCPUs, memory and max pods there"
        )
    # One launch template per group: a credit mode is either set (burstable types) or must
    # not be (EC2 refuses a credit specification for other families).
    families = {t.split(".")[0] in BURSTABLE_FAMILIES for t in group.instance_types}
    if len(families) > 1:
        raise StackConfigError(
            f"config '{prefix}InstanceTypes' mixes burstable (t3, t3a, t4g) and other types "
            f"({', '.join(group.instance_types)}); use one kind per node group"
        )
    shapes = {(NODE_TYPES[t].vcpus, NODE_TYPES[t].memory_mib) for t in group.instance_types}
    if len(shapes) > 1:
        raise StackConfigError(
            f"config '{prefix}InstanceTypes' must all have the same vCPUs and memory "
            f"(e.g. t3.medium, t3a.medium); got {', '.join(group.instance_types)}"
        )


def _check(config: StackConfig) -> None:
    try:
        network = ipaddress.ip_network(config.vpc_cidr)
    except ValueError as exc:
        raise StackConfigError(f"config 'vpcCidr': {exc}") from None
    if not 16 <= network.prefixlen <= 20:
        raise StackConfigError(f"config 'vpcCidr' must be a /16 to /20 (got {config.vpc_cidr})")

    # Cluster Autoscaler supports exactly one Kubernetes minor version per release.
    k8s_minor = ".".join(config.kubernetes_version.split(".")[:2])
    ca_minor = ".".join(config.cluster_autoscaler_image_tag.lstrip("v").split(".")[:2])
    if k8s_minor != ca_minor:
        raise StackConfigError(
            f"config 'clusterAutoscalerImageTag' ({config.cluster_autoscaler_image_tag}) must "
            f"match the minor version of 'kubernetesVersion' ({config.kubernetes_version})"
        )

    if not 1 <= config.database.backup_retention_days <= 35:
        raise StackConfigError("config 'dbBackupRetentionDays' must be 1..35 (0 disables backups)")
    for key, days in (
        ("rawLogRetentionDays", config.raw_log_retention_days),
        ("noncurrentVersionRetentionDays", config.noncurrent_version_retention_days),
    ):
        if days < 1:
            raise StackConfigError(f"config '{key}' must be at least 1 day (got {days})")


def reject_creator_as_admin(config: StackConfig) -> None:
    """The identity running `pulumi up` is cluster admin already; a second entry fails.

    EKS gives the cluster's creator an admin access entry of its own
    (bootstrapClusterCreatorAdminPermissions); listing the same principal in
    adminPrincipalArns makes a duplicate entry, which EKS refuses after the cluster exists.
    """
    caller = aws.get_caller_identity()
    # An assumed-role session (SSO, CI) is entered as its role, as EKS does.
    creator = aws.iam.get_session_context(arn=caller.arn).issuer_arn
    if creator in config.admin_principal_arns:
        raise StackConfigError(
            f"config 'adminPrincipalArns': {creator} is the creator of the cluster (you, running "
            "pulumi), who is cluster admin already; remove it from the list"
        )


def _checked_password(password: str) -> str:
    if len(password) < _MIN_PASSWORD_LENGTH or _FORBIDDEN_PASSWORD_CHARS & set(password):
        raise StackConfigError(
            f"config 'metastoreDbPassword' must have at least {_MIN_PASSWORD_LENGTH} characters "
            'and none of / @ " or space (try: openssl rand -hex 24)'
        )
    return password
