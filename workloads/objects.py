"""Building blocks shared by the workload modules: labels, placement, hardened pod specs.

Every pod in the namespace is built by `pod_spec`, so none can miss the security context,
the placement rule or the settings that keep Kubernetes from injecting surprises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from workloads import contract
from workloads.security import container_security_context, pod_security_context

PART_OF = "nginx-lakehouse"
NAME_LABEL = "app.kubernetes.io/name"
COMPONENT_LABEL = "app.kubernetes.io/component"
ENVIRONMENT_LABEL = "lakehouse.io/environment"
# Pods the Cluster Autoscaler must not evict to pack nodes: the Spark master (its running
# applications would lose it), a running driver or maintenance job (the run), the metastore
# (every commit). The autoscaler runs with skip-nodes-with-local-storage=false so that
# workers' emptyDirs do not pin spot nodes, which also removed this protection from them.
NOT_SAFE_TO_EVICT = {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}


@dataclass(frozen=True)
class Scope:
    """Where children go: the namespace, the cluster's provider, the environment label."""

    namespace: pulumi.Input[str]
    provider: k8s.Provider | None
    environment: str

    def opts(self, parent: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, provider=self.provider)

    def labels(self, name: str, component: str) -> dict[str, str]:
        return {
            **selector_labels(name),
            COMPONENT_LABEL: component,
            "app.kubernetes.io/managed-by": "pulumi",
            ENVIRONMENT_LABEL: self.environment,
        }

    def metadata(
        self,
        component: str,
        name: str | None,
        *,
        app: str | None = None,
        annotations: Mapping[str, pulumi.Input[str]] | None = None,
    ) -> k8s.meta.v1.ObjectMetaArgs:
        """Metadata in the namespace. name=None lets Pulumi auto-name (ConfigMaps, Secrets):
        a changed one is then replaced under a new name, which rolls the pods using it."""
        return k8s.meta.v1.ObjectMetaArgs(
            name=name,
            namespace=self.namespace,
            labels=self.labels(app or name or component, component),
            annotations=dict(annotations) if annotations else None,
        )


def selector_labels(name: str) -> dict[str, str]:
    """The immutable part: Deployment selectors and NetworkPolicies match on these."""
    return {NAME_LABEL: name, "app.kubernetes.io/part-of": PART_OF}


# --- placement -------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    node_selector: dict[str, str] | None = None
    tolerations: list[k8s.core.v1.TolerationArgs] | None = None
    affinity: k8s.core.v1.AffinityArgs | None = None


def system_pool() -> Placement:
    """The on-demand system group: everything but Spark workers (docs/decisions/0008)."""
    return Placement(node_selector={contract.POOL_LABEL: contract.SYSTEM_POOL})


def spark_spot_pool(spread_label: Mapping[str, str]) -> Placement:
    """Only the tainted spot group: tolerate its taint AND require its label.

    The toleration alone would let a worker land on the system group too; the required
    affinity alone would not get it past the taint.
    """
    return Placement(
        tolerations=[
            k8s.core.v1.TolerationArgs(
                key=contract.SPARK_TAINT_KEY,
                operator="Equal",
                value=contract.SPARK_TAINT_VALUE,
                effect=contract.SPARK_TAINT_EFFECT,
            )
        ],
        affinity=k8s.core.v1.AffinityArgs(
            node_affinity=k8s.core.v1.NodeAffinityArgs(
                required_during_scheduling_ignored_during_execution=k8s.core.v1.NodeSelectorArgs(
                    node_selector_terms=[
                        k8s.core.v1.NodeSelectorTermArgs(
                            match_expressions=[
                                k8s.core.v1.NodeSelectorRequirementArgs(
                                    key=contract.POOL_LABEL,
                                    operator="In",
                                    values=[contract.SPARK_POOL],
                                )
                            ]
                        )
                    ]
                )
            ),
            # One worker per node: a spot reclaim then takes one worker, not two.
            pod_anti_affinity=k8s.core.v1.PodAntiAffinityArgs(
                preferred_during_scheduling_ignored_during_execution=[
                    k8s.core.v1.WeightedPodAffinityTermArgs(
                        weight=100,
                        pod_affinity_term=k8s.core.v1.PodAffinityTermArgs(
                            topology_key="kubernetes.io/hostname",
                            label_selector=k8s.meta.v1.LabelSelectorArgs(
                                match_labels=dict(spread_label)
                            ),
                        ),
                    )
                ]
            ),
        ),
    )


# --- containers and volumes -----------------------------------------------------------


def pod_ip_env(name: str = "POD_IP") -> k8s.core.v1.EnvVarArgs:
    """The pod's own IP (downward API): what Spark advertises to its peers."""
    return k8s.core.v1.EnvVarArgs(
        name=name,
        value_from=k8s.core.v1.EnvVarSourceArgs(
            field_ref=k8s.core.v1.ObjectFieldSelectorArgs(field_path="status.podIP")
        ),
    )


def env(values: Mapping[str, pulumi.Input[str]]) -> list[k8s.core.v1.EnvVarArgs]:
    return [k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in values.items()]


def resources(millicores: int, memory_mib: int) -> k8s.core.v1.ResourceRequirementsArgs:
    # No CPU limit: CFS throttling slows JVMs (GC threads) without protecting anyone, and
    # the requests already reserve the node. Memory limit = request: predictable OOM.
    memory = f"{memory_mib}Mi"
    return k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": f"{millicores}m", "memory": memory},
        limits={"memory": memory},
    )


@dataclass(frozen=True)
class Scratch:
    """A writable emptyDir (the root filesystem is read-only)."""

    name: str
    path: str
    size_limit: str

    def volume(self) -> k8s.core.v1.VolumeArgs:
        return k8s.core.v1.VolumeArgs(
            name=self.name,
            empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=self.size_limit),
        )

    def mount(self) -> k8s.core.v1.VolumeMountArgs:
        return k8s.core.v1.VolumeMountArgs(name=self.name, mount_path=self.path)


TMP = Scratch("tmp", "/tmp", "1Gi")


def config_volume(name: str, config_map: pulumi.Input[str]) -> k8s.core.v1.VolumeArgs:
    return k8s.core.v1.VolumeArgs(
        name=name, config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_map)
    )


def read_only_mount(name: str, path: str) -> k8s.core.v1.VolumeMountArgs:
    return k8s.core.v1.VolumeMountArgs(name=name, mount_path=path, read_only=True)


def container(
    *,
    name: str,
    image: pulumi.Input[str],
    command: pulumi.Input[Sequence[pulumi.Input[str]]],
    resources: k8s.core.v1.ResourceRequirementsArgs,
    args: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
    env: Sequence[k8s.core.v1.EnvVarArgs] = (),
    ports: Sequence[k8s.core.v1.ContainerPortArgs] = (),
    mounts: Sequence[k8s.core.v1.VolumeMountArgs] = (),
    **probes_and_hooks: object,
) -> k8s.core.v1.ContainerArgs:
    return k8s.core.v1.ContainerArgs(
        name=name,
        image=image,
        image_pull_policy="IfNotPresent",
        command=command,
        args=args,
        env=list(env) or None,
        ports=list(ports) or None,
        volume_mounts=list(mounts) or None,
        resources=resources,
        security_context=container_security_context(),
        **probes_and_hooks,  # type: ignore[arg-type]
    )


def pod_spec(
    *,
    uid: int,
    service_account: pulumi.Input[str],
    placement: Placement,
    containers: Sequence[k8s.core.v1.ContainerArgs],
    volumes: Sequence[k8s.core.v1.VolumeArgs],
    init_containers: Sequence[k8s.core.v1.ContainerArgs] = (),
    restart_policy: str | None = None,
    termination_grace_period_seconds: int | None = None,
) -> k8s.core.v1.PodSpecArgs:
    return k8s.core.v1.PodSpecArgs(
        service_account_name=service_account,
        # No pod talks to the Kubernetes API; IRSA mounts its own web-identity token.
        automount_service_account_token=False,
        # Otherwise Kubernetes injects SPARK_MASTER_PORT=tcp://10.x.y.z:7077 (from the
        # spark-master Service) into every pod, and Spark's Master parses that variable as
        # its port number and dies.
        enable_service_links=False,
        security_context=pod_security_context(uid),
        node_selector=placement.node_selector,
        tolerations=placement.tolerations,
        affinity=placement.affinity,
        init_containers=list(init_containers) or None,
        containers=list(containers),
        volumes=list(volumes),
        restart_policy=restart_policy,
        termination_grace_period_seconds=termination_grace_period_seconds,
    )


def tcp_probe(port: str | int, **timing: int) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=port),
        **timing,  # type: ignore[arg-type]
    )


def http_probe(port: str | int, path: str = "/", **timing: int) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(port=port, path=path),
        **timing,  # type: ignore[arg-type]
    )


def service_account(
    scope: Scope,
    parent: pulumi.Resource,
    resource_name: str,
    account: str,
    component: str,
    role_arn: pulumi.Input[str] | None,
) -> k8s.core.v1.ServiceAccount:
    """A service account; with a role ARN, IRSA lets its pods assume that IAM role."""
    annotations = {"eks.amazonaws.com/role-arn": role_arn} if role_arn is not None else None
    return k8s.core.v1.ServiceAccount(
        resource_name,
        metadata=scope.metadata(component, account, annotations=annotations),
        automount_service_account_token=False,
        opts=scope.opts(parent),
    )


def cluster_ip_service(
    scope: Scope,
    parent: pulumi.Resource,
    resource_name: str,
    component: str,
    name: str,
    ports: Mapping[str, int],
) -> k8s.core.v1.Service:
    """A ClusterIP Service `name` in front of the pods labelled `name`.

    ports: port name -> number; each targets the container port of the same name. ClusterIP
    only: the UIs are reached with `kubectl port-forward` (docs/workloads.md).
    """
    return k8s.core.v1.Service(
        resource_name,
        metadata=scope.metadata(component, name),
        spec=k8s.core.v1.ServiceSpecArgs(
            type="ClusterIP",
            selector=selector_labels(name),
            ports=[
                k8s.core.v1.ServicePortArgs(
                    name=port_name, port=port, target_port=port_name, protocol="TCP"
                )
                for port_name, port in ports.items()
            ],
        ),
        opts=scope.opts(parent),
    )
