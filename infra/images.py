"""ECR repositories and the three images, built from the repo root and pushed by Pulumi.

Workloads reference images by digest (`repo@sha256:...`): a tag can move, a digest cannot,
so a pod restarted next month runs the bytes this stack deployed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

REPO_ROOT = Path(__file__).resolve().parents[1]

# Image key -> Dockerfile, relative to the repo root (the build context of all three).
DOCKERFILES = {
    "spark": "spark/Dockerfile",
    "generator": "generator/Dockerfile",
    "metastore": "workloads/images/hive-metastore/Dockerfile",
}
# Untagged images (replaced builds) kept for rollback before ECR expires them.
_UNTAGGED_IMAGES_KEPT = 10
_CACHE_TAG = "buildcache"


@dataclass
class ImagesArgs:
    repository_prefix: str
    tag: str
    # True in unprotected stacks: `pulumi destroy` deletes repositories that still hold images.
    force_delete: bool


def _context_path() -> str:
    # Relative to the working directory Pulumi runs in (infra/), so the stored inputs are
    # identical on every machine and a different checkout path does not trigger a rebuild.
    return os.path.relpath(REPO_ROOT)


def _lifecycle_policy() -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "Keep the last untagged images for rollback",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "imageCountMoreThan",
                        "countNumber": _UNTAGGED_IMAGES_KEPT,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    )


class Images(pulumi.ComponentResource):
    refs: dict[str, pulumi.Output[str]]
    """Image reference by digest, by key (spark, generator, metastore)."""
    repository_urls: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ImagesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:infra:Images", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        context = _context_path()

        self.refs = {}
        self.repository_urls = {}
        for key, dockerfile in DOCKERFILES.items():
            repo = aws.ecr.Repository(
                f"{name}-{key}",
                name=f"{args.repository_prefix}/{key}",
                # Tags are re-pointed on every build (the stack tag, the build cache); pods
                # never use them, they pin the digest.
                image_tag_mutability="MUTABLE",
                image_scanning_configuration={"scan_on_push": True},
                encryption_configurations=[{"encryption_type": "AES256"}],
                force_delete=args.force_delete,
                opts=child,
            )
            aws.ecr.LifecyclePolicy(
                f"{name}-{key}-lifecycle",
                repository=repo.name,
                policy=_lifecycle_policy(),
                opts=child,
            )
            token = aws.ecr.get_authorization_token_output(
                registry_id=repo.registry_id, opts=pulumi.InvokeOptions(parent=self)
            )
            cache_ref = repo.repository_url.apply(lambda url: f"{url}:{_CACHE_TAG}")
            image = docker_build.Image(
                f"{name}-{key}",
                context=docker_build.BuildContextArgs(location=context),
                dockerfile=docker_build.DockerfileArgs(location=os.path.join(context, dockerfile)),
                # Nodes are x86_64 (AL2023_x86_64_STANDARD), whatever the build machine is.
                platforms=[docker_build.Platform.LINUX_AMD64],
                tags=[repo.repository_url.apply(lambda url: f"{url}:{args.tag}")],
                push=True,
                registries=[
                    docker_build.RegistryArgs(
                        address=repo.repository_url,
                        username=token.user_name,
                        password=pulumi.Output.secret(token.password),
                    )
                ],
                # Rebuilds reuse layers from ECR (the Spark image carries large jars).
                cache_from=[docker_build.CacheFromArgs(registry={"ref": cache_ref})],
                cache_to=[
                    docker_build.CacheToArgs(
                        registry={
                            "ref": cache_ref,
                            "image_manifest": True,  # ECR needs this form of cache manifest
                            "oci_media_types": True,
                            "mode": docker_build.CacheMode.MAX,
                        }
                    )
                ],
                # Previews validate the Dockerfiles but need no Docker daemon and take seconds.
                build_on_preview=False,
                opts=child,
            )
            self.refs[key] = pulumi.Output.concat(repo.repository_url, "@", image.digest)
            self.repository_urls[key] = repo.repository_url
        self.register_outputs({"refs": self.refs})
