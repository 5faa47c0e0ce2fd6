"""ECR repositories and images: built from the repo root, pushed, referenced by digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pulumi_mocks import REPO, Deployment, Registered

IMAGE = "docker-build:index:Image"
REPOSITORY = "aws:ecr/repository:Repository"
DOCKERFILES = {
    "spark": "spark/Dockerfile",
    "generator": "generator/Dockerfile",
    "metastore": "workloads/images/hive-metastore/Dockerfile",
}


def image(d: Deployment, key: str) -> Registered:
    return d.one(IMAGE, f"images-{key}")


def repository(d: Deployment, key: str) -> Registered:
    return d.one(REPOSITORY, f"images-{key}")


@pytest.mark.parametrize("key", sorted(DOCKERFILES))
def test_each_image_has_its_repository(deployment: Deployment, key: str):
    repo = repository(deployment, key)
    assert repo.inputs["name"] == f"nginx-lakehouse-{deployment.stack}/{key}"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}


@pytest.mark.parametrize("key", sorted(DOCKERFILES))
def test_built_from_the_repo_root_with_its_dockerfile(deployment: Deployment, key: str):
    inputs = image(deployment, key).inputs
    # Paths are relative to the working directory (infra/ under `pulumi up`).
    assert Path(inputs["context"]["location"]).resolve() == REPO
    assert Path(inputs["dockerfile"]["location"]).resolve() == REPO / DOCKERFILES[key]
    assert inputs["platforms"] == ["linux/amd64"]


@pytest.mark.parametrize("key", sorted(DOCKERFILES))
def test_pushed_to_its_repository_with_ecr_credentials(deployment: Deployment, key: str):
    img = image(deployment, key)
    url = repository(deployment, key).outputs["repositoryUrl"]
    assert img.inputs["push"] is True
    assert img.inputs["tags"] == [f"{url}:{deployment.stack}"]
    assert img.inputs["registries"] == [
        {"address": url, "username": "AWS", "password": "ecr-token"}
    ]
    assert "registries" in img.secret_inputs


@pytest.mark.parametrize("key", sorted(DOCKERFILES))
def test_rebuilds_reuse_the_layer_cache_in_ecr(deployment: Deployment, key: str):
    inputs = image(deployment, key).inputs
    cache = f"{repository(deployment, key).outputs['repositoryUrl']}:buildcache"
    assert inputs["cacheFrom"] == [{"registry": {"ref": cache}}]
    [cache_to] = inputs["cacheTo"]
    assert cache_to["registry"]["ref"] == cache
    assert cache_to["registry"]["imageManifest"] is True


def test_images_are_exported_by_digest(deployment: Deployment):
    assert deployment.exports["images"] == {
        key: f"{repository(deployment, key).outputs['repositoryUrl']}@"
        f"{image(deployment, key).outputs['digest']}"
        for key in DOCKERFILES
    }


def test_only_untagged_images_expire(deployment: Deployment):
    policies = {
        p.inputs["repository"]: json.loads(p.inputs["policy"])
        for p in deployment.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    }
    assert set(policies) == {repository(deployment, key).inputs["name"] for key in DOCKERFILES}
    for policy in policies.values():
        [rule] = policy["rules"]
        assert rule["selection"]["tagStatus"] == "untagged"
        assert rule["action"] == {"type": "expire"}
