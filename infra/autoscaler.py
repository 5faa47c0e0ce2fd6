"""Cluster Autoscaler and metrics-server: make the node groups' min..max ranges (Spark: 3-6) real.

The Spark workers' HorizontalPodAutoscaler (workloads/spark_cluster.py) reads their CPU use
from metrics-server and adds workers up to sparkMaxNodes; each new worker fills a spot node,
so it is Pending until the Cluster Autoscaler adds one. When the HPA removes workers (one at
a time, each decommissioned by its preStop hook), their nodes are empty and the Cluster
Autoscaler removes them. Why an HPA on CPU and not KEDA on the Spark master's API: docs/aws.md.

Why the Cluster Autoscaler and not Karpenter: the design fixes two managed node groups
with explicit sizes, labels and taints, and the autoscaler works on exactly those (EKS
tags every managed node group's Auto Scaling group for auto-discovery and publishes its
labels and taints through `eks:DescribeNodegroup`). Karpenter would replace the node
groups with its own provisioning model (NodePools, CRDs, an interruption queue) for no gain
at this scale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.iam import IrsaRole
from workloads import contract

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
CHART_REPO = "https://kubernetes.github.io/autoscaler"
METRICS_SERVER_REPO = "https://kubernetes-sigs.github.io/metrics-server/"
# Requests of the two system pods, set here so the capacity of the system group can be
# checked (tests/infra/test_capacity.py): the autoscaler's is what the AWS guide sizes it
# with, metrics-server's is its chart's default.
AUTOSCALER_RESOURCES = {
    "requests": {"cpu": "100m", "memory": "600Mi"},
    "limits": {"memory": "600Mi"},
}
METRICS_SERVER_RESOURCES = {
    "requests": {"cpu": "100m", "memory": "200Mi"},
    "limits": {"memory": "200Mi"},
}

# Read-only calls the autoscaler makes to build its picture of the groups; AWS does not
# support resource-level restrictions on them.
_DESCRIBE_ACTIONS = [
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
    "eks:DescribeNodegroup",
]
_SCALE_ACTIONS = [
    "autoscaling:SetDesiredCapacity",
    "autoscaling:TerminateInstanceInAutoScalingGroup",
]


def autoscaler_policy(cluster_name: str) -> str:
    """Describe anything; resize or terminate only this cluster's Auto Scaling groups."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": _DESCRIBE_ACTIONS, "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": _SCALE_ACTIONS,
                    "Resource": "*",
                    # The tag EKS puts on the Auto Scaling groups of this cluster's node groups.
                    "Condition": {
                        "StringEquals": {
                            f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"
                        }
                    },
                },
            ],
        }
    )


@dataclass
class ClusterAutoscalerArgs:
    cluster_name: str
    region: str
    chart_version: str
    image_tag: str
    metrics_server_chart_version: str
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    provider: k8s.Provider
    # The node group its pod is pinned to: installing before it exists leaves it Pending.
    system_nodes: pulumi.Resource


class ClusterAutoscaler(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    metrics_server: k8s.helm.v3.Release

    def __init__(
        self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("lakehouse:infra:ClusterAutoscaler", name, None, opts)

        role = IrsaRole(
            f"{name}-irsa",
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_provider_url=args.oidc_provider_url,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            policy=autoscaler_policy(args.cluster_name),
            opts=pulumi.ResourceOptions(parent=self),
        ).role

        self.release = k8s.helm.v3.Release(
            name,
            chart="cluster-autoscaler",
            version=args.chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPO),
            namespace=NAMESPACE,
            values={
                "cloudProvider": "aws",
                "awsRegion": args.region,
                "autoDiscovery": {"clusterName": args.cluster_name},
                "image": {"tag": args.image_tag},
                "rbac": {
                    "serviceAccount": {
                        "create": True,
                        "name": SERVICE_ACCOUNT,
                        "annotations": {"eks.amazonaws.com/role-arn": role.arn},
                    }
                },
                # Never on the spot group it may shrink.
                "nodeSelector": {contract.POOL_LABEL: contract.SYSTEM_POOL},
                "resources": AUTOSCALER_RESOURCES,
                "extraArgs": {
                    # Spark workers keep shuffle data in emptyDir volumes; with the default
                    # (true) no Spark node would ever be scaled down.
                    "skip-nodes-with-local-storage": "false",
                    "balance-similar-node-groups": "true",
                    "expander": "least-waste",
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[args.system_nodes]
            ),
        )
        # The resource metrics API the workers' HorizontalPodAutoscaler reads (EKS ships none).
        self.metrics_server = k8s.helm.v3.Release(
            f"{name}-metrics-server",
            chart="metrics-server",
            version=args.metrics_server_chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=METRICS_SERVER_REPO),
            namespace=NAMESPACE,
            values={
                "nodeSelector": {contract.POOL_LABEL: contract.SYSTEM_POOL},
                "resources": METRICS_SERVER_RESOURCES,
            },
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[args.system_nodes]
            ),
        )
        self.register_outputs({"role_arn": role.arn})
