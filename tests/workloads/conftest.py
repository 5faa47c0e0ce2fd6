"""Fixtures: the Workloads component deployed under mocks with fake but realistic inputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from core import runtimes
from core.settings import Settings
from tests.pulumi_mocks import Deployment, deploy
from workloads import contract

ACCOUNT = "123456789012"
DB_HOST = "lakehouse-dev-metastore.c0ffee.us-east-1.rds.amazonaws.com"
DB_PORT = 5432
DB_PASSWORD = "correct-horse-battery-staple-42"
IMAGES = {
    key: f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/lakehouse-dev/{key}@sha256:{key[0] * 64}"
    for key in ("spark", "metastore", "generator")
}
ROLE_ARNS = {
    sa: f"arn:aws:iam::{ACCOUNT}:role/lakehouse-dev-{sa}"
    for sa in (
        contract.SA_SPARK_WORKER,
        contract.SA_ETL,
        contract.SA_GENERATOR,
        contract.SA_METASTORE,
        contract.SA_SPARK_HISTORY,
    )
}
PROVIDER_NAME = "eks-k8s"


def aws_settings(**overrides: Any) -> Settings:
    """What infra/lakehouse_settings.py builds: runtimes.aws with the contract's hosts."""
    return runtimes.aws(
        **{
            "input_bucket": "lakehouse-dev-input-0123abcd",
            "warehouse_bucket": "lakehouse-dev-warehouse-0123abcd",
            "processed_bucket": "lakehouse-dev-processed-0123abcd",
            "region": "us-east-1",
            "metastore_host": contract.service_host(contract.METASTORE_SERVICE),
            "spark_master_host": contract.service_host(contract.SPARK_MASTER_SERVICE),
            **overrides,
        }
    )


def workloads_program(
    settings: Settings | None = None,
    opts: pulumi.ResourceOptions | None = None,
    **arg_overrides: Any,
) -> Callable[[], None]:
    """A program declaring a provider and `Workloads` the way infra/__main__.py does."""

    def program() -> None:
        from workloads.metastore import DatabaseConnection
        from workloads.stack import Workloads, WorkloadsArgs

        provider = k8s.Provider(PROVIDER_NAME, kubeconfig="{}")
        args = WorkloadsArgs(
            provider=provider,
            # Outputs, as the real program passes them (bucket names resolve later).
            settings=pulumi.Output.from_input(settings or aws_settings()),
            images={k: pulumi.Output.from_input(v) for k, v in IMAGES.items()},
            role_arns={k: pulumi.Output.from_input(v) for k, v in ROLE_ARNS.items()},
            database=DatabaseConnection(
                host=pulumi.Output.from_input(DB_HOST),
                port=DB_PORT,
                name="metastore",
                user="hive",
                password=pulumi.Output.secret(DB_PASSWORD),
            ),
        )
        Workloads("lakehouse", replace(args, **arg_overrides), opts)

    return program


@pytest.fixture(scope="session")
def deployment() -> Deployment:
    return deploy(workloads_program())


@pytest.fixture(scope="session")
def settings() -> Settings:
    return aws_settings()
