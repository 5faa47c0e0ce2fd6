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


# --- each image's build context is what its Dockerfile copies (issue #13, item 5) --------


def copy_sources(dockerfile: Path) -> set[str]:
    """The repository paths a Dockerfile's COPY/ADD lines take from the build context."""
    sources = set()
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if not words or words[0] not in ("COPY", "ADD"):
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        if any(w.startswith("--from=") for w in words[1:]):
            continue  # from another stage, not from the context
        sources |= {a.rstrip("/") for a in args[:-1]}
    return sources


def allowlist(ignore_file: Path) -> tuple[list[str], list[str]]:
    """(re-included paths, other patterns) of an allowlist .dockerignore."""
    lines = [
        line.strip()
        for line in ignore_file.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "an allowlist starts by ignoring everything"
    return [p[1:] for p in lines[1:] if p.startswith("!")], [
        p for p in lines[1:] if not p.startswith("!")
    ]


def in_context(path: str, ignore_file: Path) -> bool:
    included, excluded = allowlist(ignore_file)
    if "__pycache__" in path.split("/") or path.endswith(".pyc"):
        assert excluded == ["**/__pycache__", "**/*.pyc"]
        return False
    return any(path == p or path.startswith(f"{p}/") for p in included)


def repository_files() -> list[str]:
    return [
        str(p.relative_to(REPO))
        for p in REPO.rglob("*")
        if p.is_file() and not {".git", ".venv", ".cache", "var"} & set(p.relative_to(REPO).parts)
    ]


@pytest.mark.parametrize("key", sorted(DOCKERFILES))
def test_each_image_context_is_exactly_what_its_dockerfile_copies(key: str):
    dockerfile = REPO / DOCKERFILES[key]
    # Docker and pulumi-docker-build read <Dockerfile>.dockerignore before the root one.
    ignore_file = REPO / f"{DOCKERFILES[key]}.dockerignore"
    included, _ = allowlist(ignore_file)
    assert set(included) == copy_sources(dockerfile)


def test_no_file_rebuilds_all_three_images():
    # Before: one context (the repo root) for all three, so an edit to any file that was not
    # ignored (workloads/stack.py, say) changed every image's context hash.
    ignores = {key: REPO / f"{path}.dockerignore" for key, path in DOCKERFILES.items()}
    files = repository_files()
    assert not [f for f in files if all(in_context(f, i) for i in ignores.values())]
    for outside in ("workloads/stack.py", "infra/__main__.py", "docs/aws.md", "README.md"):
        assert not [k for k, i in ignores.items() if in_context(outside, i)], outside
    assert in_context("core/settings.py", ignores["spark"])
    assert not in_context("spark/job.py", ignores["generator"])


def test_the_metastore_image_carries_the_rds_ca_bundle_its_jdbc_url_names():
    from workloads.config_files import RDS_CA_BUNDLE, jdbc_url

    dockerfile = (REPO / DOCKERFILES["metastore"]).read_text()
    assert "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem" in dockerfile
    assert '-o "$HMS/rds-ca-bundle.pem"' in dockerfile
    assert "ARG HMS=/opt/hive-metastore" in dockerfile
    assert RDS_CA_BUNDLE == "/opt/hive-metastore/rds-ca-bundle.pem"
    assert "sslmode=verify-full" in jdbc_url("db.example", 5432, "metastore")
