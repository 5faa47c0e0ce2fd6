"""The project and stack files, and the validation of the settings read from them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pulumi.runtime.sync_await import _sync_await

from core.settings import EtlSettings, ReportSettings, RetentionSettings
from infra.config import StackConfig, StackConfigError, load_config
from tests.infra.conftest import STACKS
from tests.pulumi_mocks import REPO, configure

PROJECT = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
DECLARED = PROJECT["config"]
PYTHON_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list}


def load(stack: str = "dev", **overrides: Any) -> StackConfig:
    configure(stack, overrides)
    return load_config()


def test_project_runs_infra_with_the_repo_virtualenv():
    assert PROJECT["name"] == "nginx-lakehouse"
    assert PROJECT["runtime"] == {"name": "python", "options": {"virtualenv": ".venv"}}
    assert PROJECT["main"] == "infra/"


@pytest.mark.parametrize("key", sorted(DECLARED))
def test_every_key_is_declared_with_a_type_and_a_matching_default(key: str):
    declaration = DECLARED[key]
    expected = PYTHON_TYPES[declaration["type"]]
    if key == "metastoreDbPassword":
        assert declaration["secret"] is True and "default" not in declaration
        return
    assert isinstance(declaration["default"], expected)
    if expected is list:
        assert all(isinstance(item, str) for item in declaration["default"])


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_set_only_declared_keys(stack: str):
    # The CLI accepts any key, so a typo would silently fall back to the default.
    values = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
    ours = {k.split(":", 1)[1] for k in values if k.startswith(f"{PROJECT['name']}:")}
    assert ours <= set(DECLARED)
    assert values["aws:region"]
    assert values["aws:defaultTags"]["tags"]["stack"] == stack


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_hold_no_password(stack: str):
    values = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert f"{PROJECT['name']}:metastoreDbPassword" not in values


def test_documented_in_docs_aws_md():
    docs = (REPO / "docs" / "aws.md").read_text()
    assert [key for key in DECLARED if f"`{key}`" not in docs] == []


def test_defaults_are_the_documented_architecture():
    cfg = load(
        "dev", sparkInstanceTypes=None, sparkMinNodes=None, sparkMaxNodes=None, protectData=None
    )
    assert cfg.spark_nodes.instance_types == ("t3.medium",)
    assert (cfg.spark_nodes.min_nodes, cfg.spark_nodes.max_nodes) == (3, 6)
    assert cfg.protect_data is True  # a new stack keeps its data unless it opts out


def test_lakehouse_settings_default_to_the_settings_model():
    # Pulumi.yaml's defaults must not become a second, divergent default of core.settings.
    cfg = load("prod")
    assert cfg.etl == EtlSettings()
    assert cfg.retention == RetentionSettings()
    assert cfg.reports == ReportSettings()


def test_lakehouse_settings_from_stack_keys():
    cfg = load(
        "dev",
        logFormat="timed",
        clientIp="truncate",
        clientIpv6Prefix=56,
        redactQueryParams=["token", "email"],
        slowRequestMs=250,
        siteHosts=["www.example.com"],
        retentionAccessLogsDays=90,
        retentionReportsDays=400,
    )
    assert cfg.etl == EtlSettings(
        log_format="timed",
        client_ip="truncate",
        ipv6_prefix=56,
        redact_query_params=("token", "email"),
        slow_request_seconds=0.25,
    )
    assert cfg.reports == ReportSettings(site_hosts=("www.example.com",))
    assert cfg.retention == RetentionSettings(access_logs_days=90, reports_days=400)


def test_several_families_of_one_shape_are_accepted():
    # Not t3.large with them: EC2 refuses the burstable group's credit mode for an m5
    # (InstanceCreditSpecification.NotSupported), so a mix is refused below.
    cfg = load("dev", sparkInstanceTypes=["m5a.large", "m5.large", "m6i.large"])
    assert cfg.spark_nodes.instance_types == ("m5a.large", "m5.large", "m6i.large")


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"sparkInstanceTypes": ["t3.medium", "t3.large"]}, "sparkInstanceTypes"),
        ({"sparkInstanceTypes": ["t3.medium", "x9.medium"]}, "sparkInstanceTypes"),
        ({"systemInstanceTypes": ["t3.large", "t3.medium"]}, "systemInstanceTypes"),
        ({"sparkInstanceTypes": ["t3.large", "m5.large"]}, "sparkInstanceTypes"),
        ({"sparkInstanceTypes": []}, "sparkInstanceTypes"),
        ({"sparkMinNodes": 7}, "sparkMinNodes"),
        ({"systemMinNodes": 0}, "systemMinNodes"),
        ({"vpcCidr": "10.0.0.0/24"}, "vpcCidr"),
        ({"vpcCidr": "10.0.0.300/16"}, "vpcCidr"),
        ({"clusterAutoscalerImageTag": "v1.33.1"}, "clusterAutoscalerImageTag"),
        ({"dbBackupRetentionDays": 0}, "dbBackupRetentionDays"),
        ({"rawLogRetentionDays": 0}, "rawLogRetentionDays"),
        ({"apiAllowedCidrs": "0.0.0.0/0"}, "apiAllowedCidrs"),
        ({"logFormat": '$remote_addr "$request'}, "logFormat"),
        ({"clientIp": "anonymise"}, "clientIp"),
        ({"clientIpv4Prefix": 33}, "clientIpv4Prefix"),
        ({"redactQueryParams": ["to ken"]}, "redactQueryParams"),
        ({"retentionAccessLogsDays": -1}, "retentionAccessLogsDays"),
        ({"slowRequestMs": 0}, "slowRequestMs.*milliseconds"),
        ({"siteHosts": ["https://example.com"]}, "siteHosts"),
    ],
)
def test_bad_settings_fail_fast_naming_the_setting(overrides: dict[str, Any], names: str):
    with pytest.raises(StackConfigError, match=names):
        load("dev", **overrides)


@pytest.mark.parametrize(
    "password", ["short", "has/slash-and-is-long-enough", "with space 0123456789"]
)
def test_unusable_database_passwords_are_rejected(password: str):
    cfg = load("dev", metastoreDbPassword=password)
    with pytest.raises(StackConfigError, match="metastoreDbPassword"):
        _sync_await(cfg.database.password.future())


def test_database_password_is_required():
    with pytest.raises(StackConfigError, match="metastoreDbPassword"):
        load("dev", metastoreDbPassword=None)
