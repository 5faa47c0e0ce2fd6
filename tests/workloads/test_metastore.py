"""Hive Metastore: schema initialised before the server starts, password only via a Secret
fed by the (secret) database password, TCP probes on 9083, system node group."""

from __future__ import annotations

import json

from core.settings import METASTORE_PORT
from tests.pulumi_mocks import Deployment
from tests.workloads.conftest import DB_HOST, DB_PASSWORD, DB_PORT, IMAGES
from tests.workloads.pods import container, env, pod_of
from workloads import contract
from workloads.metastore import HMS, PASSWORD_ENV


def test_password_reaches_the_metastore_only_through_a_secret(deployment: Deployment) -> None:
    [secret] = deployment.of_kind("Secret")
    assert secret.manifest()["stringData"] == {"password": DB_PASSWORD}
    # Still a Pulumi secret when it reaches the engine (encrypted in the state file).
    assert "stringData" in secret.secret_inputs
    pod = pod_of(deployment, "Deployment", "hive-metastore")
    for name in ("init-schema", "metastore"):
        variables = env(container(deployment, "Deployment", "hive-metastore", name))
        assert variables[PASSWORD_ENV] == {
            "secretKeyRef": {"name": secret.k8s_name, "key": "password"}
        }, name
    # metastore-site.xml refers to the variable; the password is in no other object.
    site = deployment.named("ConfigMap", pod["volumes"][0]["configMap"]["name"]).manifest()["data"][
        "metastore-site.xml"
    ]
    assert "${env.METASTORE_DB_PASSWORD}" in site
    leaks = [
        f"{o.kind}/{o.k8s_name}"
        for o in deployment.kubernetes_objects()
        if o is not secret and DB_PASSWORD in json.dumps(o.manifest())
    ]
    assert not leaks


def test_metastore_connects_to_the_given_database_over_tls(deployment: Deployment) -> None:
    site = next(
        c.manifest()["data"]["metastore-site.xml"]
        for c in deployment.of_kind("ConfigMap")
        if "metastore-site.xml" in c.manifest()["data"]
    )
    # verify-full: the server's certificate must chain to the RDS CAs and name the host.
    url = (
        f"jdbc:postgresql://{DB_HOST}:{DB_PORT}/metastore"
        "?sslmode=verify-full&sslrootcert=/opt/hive-metastore/rds-ca-bundle.pem"
    )
    assert f"<value>{url.replace('&', '&amp;')}</value>" in site  # XML-escaped
    assert "<value>hive</value>" in site


def test_schema_is_initialised_by_an_init_container_before_the_server(
    deployment: Deployment,
) -> None:
    pod = pod_of(deployment, "Deployment", "hive-metastore")
    [init] = pod["initContainers"]
    [server] = pod["containers"]
    assert init["command"] == [HMS, "init-schema"]
    assert server["command"] == [HMS, "serve"]
    assert init["image"] == server["image"] == IMAGES["metastore"]
    assert init["volumeMounts"] == server["volumeMounts"]  # same metastore-site.xml


def test_probes_check_the_thrift_port(deployment: Deployment) -> None:
    server = container(deployment, "Deployment", "hive-metastore", "metastore")
    assert {p["name"]: p["containerPort"] for p in server["ports"]} == {"thrift": METASTORE_PORT}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert server[probe]["tcpSocket"] == {"port": "thrift"}, probe
    # Cold start plus the first database connection get minutes, not seconds.
    startup = server["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120


def test_a_rollout_starts_the_new_metastore_before_stopping_the_old(
    deployment: Deployment,
) -> None:
    spec = deployment.named("Deployment", "hive-metastore").manifest()["spec"]
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}


def test_service_selects_the_metastore_pods(deployment: Deployment) -> None:
    service = deployment.named("Service", contract.METASTORE_SERVICE).manifest()["spec"]
    labels = deployment.named("Deployment", "hive-metastore").manifest()["spec"]["template"][
        "metadata"
    ]["labels"]
    assert service["selector"].items() <= labels.items()
