"""The first `pulumi up` succeeds: nothing Pulumi waits for needs what only a later job creates.

pulumi-kubernetes waits (10 minutes by default) for every Deployment, StatefulSet and
DaemonSet to have its pods ready, and for every Service to have endpoints; then it marks
the update failed. So for each of them this lists what its pods need before they are ready
(mounted ConfigMaps and Secrets, the service account, the image, and what each init
container and server process needs, written down by hand from what they do) and asserts
that the program itself creates each of those.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.pulumi_mocks import Deployment, Registered
from tests.workloads.pods import containers

AWAITED_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")
SKIP_AWAIT = "pulumi.com/skipAwait"
BUCKET_OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"


def awaited(d: Deployment, kinds: tuple[str, ...]) -> list[Registered]:
    return [
        o
        for kind in kinds
        for o in d.of_kind(kind)
        if (o.manifest()["metadata"].get("annotations") or {}).get(SKIP_AWAIT) != "true"
    ]


def config_file(d: Deployment, name: str) -> str:
    [text] = d.named("ConfigMap", name).manifest()["data"].values()
    return text


def spark_default(d: Deployment, pod: dict[str, Any], key: str) -> str:
    """A property from the spark-defaults ConfigMap the pod mounts."""
    [source] = [v["configMap"]["name"] for v in pod["volumes"] if v["name"] == "spark-conf"]
    lines = dict(line.split(" ", 1) for line in config_file(d, source).splitlines())
    return lines[key]


def s3_directory(uri: str) -> tuple[str, str]:
    """("s3 object", "bucket/key/") for an s3a:// directory URI."""
    parts = urlsplit(uri)
    return ("s3 object", f"{parts.netloc}/{parts.path.strip('/')}/")


def jdbc_host(d: Deployment, pod: dict[str, Any]) -> tuple[str, str]:
    [source] = [v["configMap"]["name"] for v in pod["volumes"] if v["name"] == "config"]
    text = config_file(d, source)
    url = text.split("jdbc:postgresql://", 1)[1].split("/", 1)[0]
    return ("database", url.split(":")[0])


# What each process needs before it is ready, beyond its own ports: read from what it does.
# A container not listed here fails the test: write down what it needs first.
def process_needs(d: Deployment, pod: dict[str, Any], c: dict[str, Any]) -> list[tuple[str, str]]:
    name = c["name"]
    if name == "wait-for-event-log-dir":  # loops until the directory exists
        return [s3_directory(c["args"][0])]
    if name == "history":  # FsHistoryProvider exits if its log directory is missing
        return [s3_directory(spark_default(d, pod, "spark.history.fs.logDirectory"))]
    if name in ("init-schema", "metastore"):  # schematool / the server connect to RDS
        return [jdbc_host(d, pod)]
    if name == "worker":  # registers with the master through its Service
        return [("Service", "spark-master")]
    if name == "master":
        return []
    raise AssertionError(f"unknown container {name!r}: write down what it needs")


def needs(d: Deployment, pod: dict[str, Any]) -> Iterator[tuple[str, str]]:
    yield ("ServiceAccount", pod["serviceAccountName"])
    for volume in pod.get("volumes", []):
        if "configMap" in volume:
            yield ("ConfigMap", volume["configMap"]["name"])
        if "secret" in volume:
            yield ("Secret", volume["secret"]["secretName"])
    for c in containers(pod):
        yield ("image", c["image"])
        for env in c.get("env", []):
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                yield ("Secret", ref["name"])
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            action = c.get(probe, {})
            port = (action.get("tcpSocket") or action.get("httpGet") or {}).get("port")
            if port is not None:  # a probe of the container's own, declared port
                yield ("port", f"{c['name']}:{port}")
        yield from process_needs(d, pod, c)


def created(d: Deployment) -> set[tuple[str, str]]:
    """What the program itself creates, in the terms `needs` uses."""
    made: set[tuple[str, str]] = set()
    for kind in ("ServiceAccount", "ConfigMap", "Secret", "Service"):
        made |= {(kind, o.k8s_name) for o in d.of_kind(kind)}
    made |= {("image", ref) for ref in d.exports["images"].values()}
    buckets = {b.id: b.outputs["bucket"] for b in d.of_type("aws:s3/bucket:Bucket")}
    for obj in d.of_type(BUCKET_OBJECT):
        made.add(("s3 object", f"{buckets[obj.inputs['bucket']]}/{obj.inputs['key']}"))
    made |= {("database", db.outputs["address"]) for db in d.of_type("aws:rds/instance:Instance")}
    for _, pod in d.pod_specs():
        for c in containers(pod):
            for port in c.get("ports", []):
                made |= {("port", f"{c['name']}:{port['name']}")}
                made |= {("port", f"{c['name']}:{port['containerPort']}")}
    return made


@pytest.mark.parametrize("kind", AWAITED_WORKLOADS)
def test_everything_an_awaited_workload_needs_is_created_by_the_program(
    deployment: Deployment, kind: str
):
    made = created(deployment)
    for obj in awaited(deployment, (kind,)):
        pod = obj.manifest()["spec"]["template"]["spec"]
        missing = sorted(set(needs(deployment, pod)) - made)
        assert missing == [], f"{kind}/{obj.k8s_name} waits for {missing}"


def test_the_event_log_directory_is_created_by_pulumi_up(deployment: Deployment):
    # The first ETL run creates it too, but Pulumi waits for the History Server before any.
    [marker] = deployment.of_type(BUCKET_OBJECT)
    assert marker.inputs["key"] == "spark-events/"
    assert marker.inputs["content"] == ""
    [component] = deployment.of_type("lakehouse:workloads:Workloads")
    assert marker.urn in component.dependencies


def test_every_awaited_service_selects_pods_of_an_awaited_workload(deployment: Deployment):
    pod_labels = [
        o.manifest()["spec"]["template"]["metadata"]["labels"]
        for o in awaited(deployment, AWAITED_WORKLOADS)
    ]
    for service in awaited(deployment, ("Service",)):
        selector = service.manifest()["spec"]["selector"]
        assert any(selector.items() <= labels.items() for labels in pod_labels), service.k8s_name
