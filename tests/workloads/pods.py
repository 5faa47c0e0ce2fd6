"""Small readers for manifests: containers of a pod spec, env as a dict, named objects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.pulumi_mocks import Deployment, Registered


def containers(pod: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Init containers first, then containers: every process the pod runs."""
    yield from pod.get("initContainers", [])
    yield from pod["containers"]


def env(container: dict[str, Any]) -> dict[str, Any]:
    """name -> value, or the valueFrom source for downward-API / secret variables."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def pod_of(deployment: Deployment, kind: str, name: str) -> dict[str, Any]:
    obj = deployment.named(kind, name)
    return _pod(obj)


def _pod(obj: Registered) -> dict[str, Any]:
    spec = obj.manifest()["spec"]
    if obj.kind == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    return spec["template"]["spec"]


def container(deployment: Deployment, kind: str, name: str, container_name: str) -> dict[str, Any]:
    found = [c for c in containers(pod_of(deployment, kind, name)) if c["name"] == container_name]
    assert len(found) == 1, f"{kind}/{name} has no container {container_name!r}"
    return found[0]


def volume_sources(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod.get("volumes", [])}
