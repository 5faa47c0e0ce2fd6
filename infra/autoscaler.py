"""Cluster Autoscaler: makes the node groups' min..max ranges (Spark: 3-6) real.

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
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    provider: k8s.Provider
    # The node group its pod is pinned to: installing before it exists leaves it Pending.
    system_nodes: pulumi.Resource


class ClusterAutoscaler(pulumi.ComponentResource):
    release: k8s.helm.v3.Release

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
        self.register_outputs({"role_arn": role.arn})
