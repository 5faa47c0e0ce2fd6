"""NetworkPolicies, read as a spec: who may connect to whom, evaluated from the declared
policies with Kubernetes' semantics (a pod selected by no policy of a direction is open in
that direction; once selected, only the union of the selecting policies' rules applies)."""

from __future__ import annotations

from typing import Any

import pytest

from core.settings import METASTORE_PORT, SPARK_MASTER_PORT, SPARK_UI_PORT
from tests.pulumi_mocks import Deployment
from tests.workloads.conftest import DB_PORT
from workloads import contract

RANDOM_SPARK_PORT = 40123  # executor RPC and block managers pick ports at random


def labels(deployment: Deployment, kind: str, name: str) -> dict[str, str]:
    spec = deployment.named(kind, name).manifest()["spec"]
    if kind == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["metadata"]["labels"]


@pytest.fixture(scope="module")
def pods(deployment: Deployment) -> dict[str, dict[str, str]]:
    return {
        "metastore": labels(deployment, "Deployment", "hive-metastore"),
        "master": labels(deployment, "Deployment", "spark-master"),
        "worker": labels(deployment, "Deployment", "spark-worker"),
        "history": labels(deployment, "Deployment", "spark-history"),
        "driver": labels(deployment, "CronJob", "etl"),
        "generator": labels(deployment, "CronJob", "generator"),
    }


@pytest.fixture(scope="module")
def policies(deployment: Deployment) -> list[dict[str, Any]]:
    return [p.manifest()["spec"] for p in deployment.of_kind("NetworkPolicy")]


def _selects(selector: dict[str, Any], pod_labels: dict[str, str]) -> bool:
    return selector.get("matchLabels", {}).items() <= pod_labels.items()


def _port_ok(rule: dict[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    return not ports or any(
        p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports
    )


def _peer_ok(rule: dict[str, Any], key: str, peer: dict[str, str] | str) -> bool:
    peers = rule.get(key)
    if not peers:
        return True
    for candidate in peers:
        if isinstance(peer, str):  # an address outside the cluster
            if candidate.get("ipBlock", {}).get("cidr") == "0.0.0.0/0":
                return True
        elif (
            "podSelector" in candidate
            and "namespaceSelector" not in candidate
            and _selects(candidate["podSelector"], peer)
        ):
            return True
    return False


def allowed(
    policies: list[dict[str, Any]],
    source: dict[str, str] | str,
    target: dict[str, str] | str,
    port: int,
    protocol: str = "TCP",
) -> bool:
    """May `source` open a connection to `target`:`port`? (pods by labels; str = outside)"""

    def direction(pod: dict[str, str], kind: str, peer: dict[str, str] | str, key: str) -> bool:
        selecting = [
            p for p in policies if kind in p["policyTypes"] and _selects(p["podSelector"], pod)
        ]
        if not selecting:
            return True
        rules = [r for p in selecting for r in p.get(kind.lower(), []) or []]
        return any(_peer_ok(r, key, peer) and _port_ok(r, port, protocol) for r in rules)

    out_ok = isinstance(source, str) or direction(source, "Egress", target, "to")
    in_ok = isinstance(target, str) or direction(target, "Ingress", source, "from")
    return out_ok and in_ok


def test_every_pod_is_denied_by_default(policies: list[dict[str, Any]]) -> None:
    deny = [p for p in policies if p["podSelector"] == {} and "ingress" not in p]
    assert any(set(p["policyTypes"]) == {"Ingress", "Egress"} for p in deny)


def test_only_the_driver_and_workers_reach_the_metastore(pods, policies) -> None:
    reaching = {
        name
        for name, pod in pods.items()
        if allowed(policies, pod, pods["metastore"], METASTORE_PORT)
    }
    assert reaching == {"driver", "worker"}
    assert not allowed(policies, pods["driver"], pods["metastore"], 22)


def test_the_master_is_reached_by_workers_and_drivers_on_its_port_only(pods, policies) -> None:
    reaching = {
        name
        for name, pod in pods.items()
        if allowed(policies, pod, pods["master"], SPARK_MASTER_PORT)
    }
    assert reaching == {"worker", "driver"}
    # The UI goes through `kubectl port-forward`, which these policies do not govern.
    assert not allowed(policies, pods["worker"], pods["master"], SPARK_UI_PORT)


def test_executors_and_driver_reach_each_other_on_any_port(pods, policies) -> None:
    assert allowed(policies, pods["worker"], pods["driver"], RANDOM_SPARK_PORT)
    assert allowed(policies, pods["driver"], pods["worker"], RANDOM_SPARK_PORT)
    assert allowed(policies, pods["worker"], pods["worker"], RANDOM_SPARK_PORT)  # shuffle
    assert allowed(policies, pods["master"], pods["worker"], RANDOM_SPARK_PORT)  # launches
    assert not allowed(policies, pods["generator"], pods["driver"], RANDOM_SPARK_PORT)
    assert not allowed(policies, pods["history"], pods["worker"], RANDOM_SPARK_PORT)


def test_only_the_metastore_opens_connections_to_the_database(pods, policies) -> None:
    database = "rds-address"
    reaching = {name for name, pod in pods.items() if allowed(policies, pod, database, DB_PORT)}
    assert reaching == {"metastore"}


def test_every_pod_reaches_dns_and_https_endpoints(pods, policies, deployment) -> None:
    rule = next(p for p in policies if p["podSelector"] == {} and p["policyTypes"] == ["Egress"])[
        "egress"
    ][0]
    assert rule["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    assert {(p["protocol"], p["port"]) for p in rule["ports"]} == {("UDP", 53), ("TCP", 53)}
    for name, pod in pods.items():
        assert allowed(policies, pod, "s3.amazonaws.com", 443), name  # S3, STS (IRSA)
        assert not allowed(policies, pod, "169.254.169.254", 80), name  # no instance metadata


def test_the_database_port_comes_from_the_connection(deployment: Deployment) -> None:
    spec = deployment.named("NetworkPolicy", "metastore-to-database").manifest()["spec"]
    assert spec["egress"][0]["ports"] == [{"protocol": "TCP", "port": DB_PORT}]
    assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == (
        contract.METASTORE_SERVICE
    )
