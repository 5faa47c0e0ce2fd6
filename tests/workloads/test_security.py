"""Hardening: Pod Security "restricted" on the namespace, and every pod and container
carrying it explicitly (non-root with the image's UID, no privileges, read-only root)."""

from __future__ import annotations

from tests.pulumi_mocks import Deployment
from tests.workloads.conftest import IMAGES
from tests.workloads.pods import containers, volume_sources
from workloads import contract

IMAGE_UID = {
    IMAGES["spark"]: contract.SPARK_UID,
    IMAGES["metastore"]: contract.METASTORE_UID,
    IMAGES["generator"]: contract.GENERATOR_UID,
}


def test_namespace_enforces_the_restricted_pod_security_standard(deployment: Deployment) -> None:
    labels = deployment.named("Namespace", contract.NAMESPACE).manifest()["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_every_pod_runs_as_the_images_non_root_user(deployment: Deployment) -> None:
    for obj, pod in deployment.pod_specs():
        context = pod["securityContext"]
        images = {c["image"] for c in containers(pod)}
        assert len(images) == 1, obj.k8s_name
        uid = IMAGE_UID[images.pop()]
        assert context["runAsNonRoot"] is True, obj.k8s_name
        assert (context["runAsUser"], context["runAsGroup"]) == (uid, uid), obj.k8s_name
        assert uid != 0
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, obj.k8s_name


def test_every_container_drops_all_privileges(deployment: Deployment) -> None:
    checked = 0
    for obj, pod in deployment.pod_specs():
        for container in containers(pod):
            where = f"{obj.k8s_name}/{container['name']}"
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["runAsNonRoot"] is True, where
            checked += 1
    # 7 pods (maintenance added); init containers: schema (metastore), event-log directory
    # (ETL, maintenance, History Server)
    assert checked == 11


def test_every_writable_path_is_an_empty_dir_and_tmp_is_one(deployment: Deployment) -> None:
    for obj, pod in deployment.pod_specs():
        volumes = volume_sources(pod)
        for container in containers(pod):
            mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
            assert "emptyDir" in volumes[mounts["/tmp"]["name"]], obj.k8s_name
            for mount in mounts.values():
                volume = volumes[mount["name"]]
                writable = not mount.get("readOnly", False)
                assert not writable or "emptyDir" in volume, f"{obj.k8s_name}: {mount}"
                assert "emptyDir" in volume or "configMap" in volume, f"{obj.k8s_name}: {volume}"
                if "emptyDir" in volume:
                    assert volume["emptyDir"].get("sizeLimit"), f"{obj.k8s_name}: {volume}"


def test_no_pod_gets_an_api_token_or_service_link_variables(deployment: Deployment) -> None:
    for obj, pod in deployment.pod_specs():
        # IRSA mounts its own web-identity token; no workload talks to the Kubernetes API.
        assert pod["automountServiceAccountToken"] is False, obj.k8s_name
        # SPARK_MASTER_PORT=tcp://... from the spark-master Service would crash the master.
        assert pod["enableServiceLinks"] is False, obj.k8s_name
    for account in deployment.of_kind("ServiceAccount"):
        assert account.manifest()["automountServiceAccountToken"] is False, account.k8s_name


def test_every_container_has_memory_limit_and_requests(deployment: Deployment) -> None:
    for obj, pod in deployment.pod_specs():
        for container in containers(pod):
            resources = container["resources"]
            assert set(resources["requests"]) == {"cpu", "memory"}, obj.k8s_name
            assert resources["limits"]["memory"] == resources["requests"]["memory"], obj.k8s_name
