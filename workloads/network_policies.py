"""NetworkPolicies: deny by default, then open exactly the paths the pipeline uses.

Ingress (who may connect to whom):
- metastore :9083      <- ETL driver, Spark workers (executors)
- Spark master :7077   <- workers (registration), drivers (application)
- Spark workers (any)  <- master (launches executors), drivers (tasks), other workers
                          (shuffle fetch, block migration on decommission)
- ETL driver (any)     <- workers (executors), master (application updates)
- the maintenance job is a Spark driver too: it gets the ETL driver's paths
Spark picks most of these ports at random (executor RPC, block managers), hence "any".
Nothing else is reachable; UIs are reached with `kubectl port-forward`, which enters the
pod's own network namespace and is not subject to these policies.

Egress: DNS, in-namespace traffic (the ingress rules above decide), HTTPS to anywhere
(S3, STS for IRSA: AWS endpoints have no fixed addresses), and the database port from the
metastore only. The RDS security group is what restricts the database to the cluster's
nodes; this policy keeps every other pod in the namespace from opening connections to it.

Enforced only if the cluster runs a policy engine (VPC CNI with enableNetworkPolicy).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from core.settings import METASTORE_PORT, SPARK_MASTER_PORT
from workloads import contract
from workloads.jobs import ETL_NAME, MAINTENANCE_NAME
from workloads.objects import Scope, selector_labels
from workloads.spark_cluster import WORKER_NAME

COMPONENT = "network-policy"
_DNS_PORT = 53
_HTTPS_PORT = 443

METASTORE = selector_labels(contract.METASTORE_SERVICE)
MASTER = selector_labels(contract.SPARK_MASTER_SERVICE)
WORKER = selector_labels(WORKER_NAME)
DRIVER = selector_labels(ETL_NAME)
MAINTENANCE = selector_labels(MAINTENANCE_NAME)  # a Spark driver too


def _pods(labels: Mapping[str, str]) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(labels))
    )


def _tcp(port: pulumi.Input[int]) -> k8s.networking.v1.NetworkPolicyPortArgs:
    return k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=port)


def _selector(labels: Mapping[str, str] | None) -> k8s.meta.v1.LabelSelectorArgs:
    return k8s.meta.v1.LabelSelectorArgs(match_labels=dict(labels) if labels else None)


class NetworkPolicies(pulumi.ComponentResource):
    policies: dict[str, k8s.networking.v1.NetworkPolicy]

    def __init__(
        self,
        name: str,
        scope: Scope,
        database_port: pulumi.Input[int],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("lakehouse:workloads:NetworkPolicies", name, None, opts)
        self._scope = scope
        self._name = name
        self.policies = {}
        # Every pod: nothing in, nothing out, unless a policy below allows it.
        self._policy("default-deny", None, types=["Ingress", "Egress"])
        self._policy(
            "allow-common-egress",
            None,
            egress=[
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=[
                        k8s.networking.v1.NetworkPolicyPeerArgs(
                            namespace_selector=_selector(
                                {"kubernetes.io/metadata.name": "kube-system"}
                            ),
                            pod_selector=_selector({"k8s-app": "kube-dns"}),
                        )
                    ],
                    ports=[
                        k8s.networking.v1.NetworkPolicyPortArgs(protocol="UDP", port=_DNS_PORT),
                        _tcp(_DNS_PORT),
                    ],
                ),
                # Pods of this namespace: what they accept is decided by the ingress rules.
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=[k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=_selector(None))]
                ),
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=[
                        k8s.networking.v1.NetworkPolicyPeerArgs(
                            ip_block=k8s.networking.v1.IPBlockArgs(cidr="0.0.0.0/0")
                        )
                    ],
                    ports=[_tcp(_HTTPS_PORT)],
                ),
            ],
            types=["Egress"],
        )
        self._policy(
            "metastore-to-database",
            METASTORE,
            egress=[
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=[
                        k8s.networking.v1.NetworkPolicyPeerArgs(
                            ip_block=k8s.networking.v1.IPBlockArgs(cidr="0.0.0.0/0")
                        )
                    ],
                    ports=[_tcp(database_port)],
                )
            ],
            types=["Egress"],
        )
        drivers = [DRIVER, MAINTENANCE]
        self._ingress("metastore-from-spark", METASTORE, [*drivers, WORKER], [METASTORE_PORT])
        self._ingress("master-from-spark", MASTER, [WORKER, *drivers], [SPARK_MASTER_PORT])
        self._ingress("workers-from-spark", WORKER, [MASTER, *drivers, WORKER], None)
        self._ingress("driver-from-spark", DRIVER, [WORKER, MASTER], None)
        self._ingress("maintenance-from-spark", MAINTENANCE, [WORKER, MASTER], None)
        self.register_outputs({"policies": sorted(self.policies)})

    def _ingress(
        self,
        short: str,
        target: Mapping[str, str],
        sources: list[Mapping[str, str]],
        ports: list[int] | None,
    ) -> None:
        rule = k8s.networking.v1.NetworkPolicyIngressRuleArgs(
            from_=[_pods(s) for s in sources],
            ports=[_tcp(p) for p in ports] if ports else None,
        )
        self._policy(short, target, ingress=[rule], types=["Ingress"])

    def _policy(
        self,
        short: str,
        target: Mapping[str, str] | None,
        *,
        types: list[str],
        ingress: list[k8s.networking.v1.NetworkPolicyIngressRuleArgs] | None = None,
        egress: list[k8s.networking.v1.NetworkPolicyEgressRuleArgs] | None = None,
    ) -> None:
        scope = self._scope
        self.policies[short] = k8s.networking.v1.NetworkPolicy(
            f"{self._name}-{short}",
            metadata=scope.metadata(COMPONENT, short, app=COMPONENT),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=_selector(target),
                policy_types=types,
                ingress=ingress,
                egress=egress,
            ),
            opts=scope.opts(self),
        )
