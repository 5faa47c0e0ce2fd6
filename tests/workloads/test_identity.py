"""Each workload runs as its own service account, and each account carries the IAM role
(IRSA) the infrastructure made for exactly that account name."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from tests.pulumi_mocks import Deployment, deploy
from tests.workloads.conftest import ROLE_ARNS, workloads_program
from tests.workloads.pods import pod_of
from workloads import contract

ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"

RUNS_AS = {
    ("Deployment", "hive-metastore"): contract.SA_METASTORE,
    ("Deployment", "spark-master"): contract.SA_SPARK_MASTER,
    ("Deployment", "spark-worker"): contract.SA_SPARK_WORKER,
    ("Deployment", "spark-history"): contract.SA_SPARK_HISTORY,
    ("CronJob", "etl"): contract.SA_ETL,
    ("CronJob", "generator"): contract.SA_GENERATOR,
}


@pytest.mark.parametrize(
    "account",
    [
        contract.SA_METASTORE,
        contract.SA_SPARK_WORKER,
        contract.SA_ETL,
        contract.SA_GENERATOR,
        contract.SA_SPARK_HISTORY,
    ],
)
def test_service_account_carries_the_role_made_for_it(deployment: Deployment, account: str) -> None:
    metadata = deployment.named("ServiceAccount", account).manifest()["metadata"]
    assert metadata["annotations"] == {ROLE_ANNOTATION: ROLE_ARNS[account]}


def test_the_master_has_no_aws_identity(deployment: Deployment) -> None:
    # It schedules; executors (in the workers) and the driver touch S3.
    metadata = deployment.named("ServiceAccount", contract.SA_SPARK_MASTER).manifest()["metadata"]
    assert "annotations" not in metadata


def test_each_workload_runs_as_its_own_account(deployment: Deployment) -> None:
    actual = {key: pod_of(deployment, *key)["serviceAccountName"] for key in RUNS_AS}
    assert actual == RUNS_AS


def test_without_a_history_role_the_history_server_runs_as_the_etl_and_says_so() -> None:
    roles = {k: v for k, v in ROLE_ARNS.items() if k != contract.SA_SPARK_HISTORY}
    fallback = deploy(workloads_program(role_arns=roles))
    assert pod_of(fallback, "Deployment", "spark-history")["serviceAccountName"] == contract.SA_ETL
    assert contract.SA_SPARK_HISTORY not in {a.k8s_name for a in fallback.of_kind("ServiceAccount")}
    assert any(contract.SA_SPARK_HISTORY in w for w in fallback.warnings)


def test_a_missing_role_fails_naming_the_service_account() -> None:
    roles = {k: v for k, v in ROLE_ARNS.items() if k != contract.SA_ETL}
    with pytest.raises(ConfigError, match="role_arns lacks etl"):
        deploy(workloads_program(role_arns=roles))


def test_an_unknown_role_key_fails() -> None:
    with pytest.raises(ConfigError, match="unknown service accounts spark-wroker"):
        deploy(workloads_program(role_arns={**ROLE_ARNS, "spark-wroker": "arn:x"}))
