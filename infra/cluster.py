"""EKS: control plane, an on-demand system node group and a tainted spot node group for Spark.

- Access is managed with EKS access entries (authentication mode API): no aws-auth ConfigMap.
- An OIDC provider lets pods assume IAM roles (IRSA); nodes get no data permissions.
- The system group (untainted, on-demand) runs CoreDNS, the metastore, the Spark master
  and every Spark driver; only Spark workers tolerate the spot group's taint, so a spot
  reclaim never takes down a driver or the catalog.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from infra.config import NodeGroupConfig, burstable
from workloads import contract

_MANAGED_NODE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
)
_CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
# EKS-optimised Amazon Linux 2023; AL2 images stop at Kubernetes 1.32.
_AMI_TYPE = "AL2023_x86_64_STANDARD"


@dataclass
class NodeGroupSpec:
    config: NodeGroupConfig
    capacity_type: str  # ON_DEMAND | SPOT
    disk_gb: int
    labels: dict[str, str]
    taints: Sequence[aws.eks.NodeGroupTaintArgs] = ()


@dataclass
class ClusterArgs:
    cluster_name: str
    kubernetes_version: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    api_allowed_cidrs: Sequence[str]
    admin_principal_arns: Sequence[str]
    control_plane_log_types: Sequence[str]
    system: NodeGroupSpec
    spark: NodeGroupSpec


def system_node_group(config: NodeGroupConfig) -> NodeGroupSpec:
    return NodeGroupSpec(
        config=config,
        capacity_type="ON_DEMAND",
        disk_gb=30,
        labels={contract.POOL_LABEL: contract.SYSTEM_POOL},
    )


def spark_node_group(config: NodeGroupConfig) -> NodeGroupSpec:
    return NodeGroupSpec(
        config=config,
        capacity_type="SPOT",
        # Shuffle and spill go to local disk.
        disk_gb=50,
        labels={contract.POOL_LABEL: contract.SPARK_POOL},
        taints=[
            aws.eks.NodeGroupTaintArgs(
                key=contract.SPARK_TAINT_KEY,
                value=contract.SPARK_TAINT_VALUE,
                effect="NO_SCHEDULE",  # EKS spelling of contract.SPARK_TAINT_EFFECT
            )
        ],
    )


class Cluster(pulumi.ComponentResource):
    kubeconfig: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_provider_url: pulumi.Output[str]
    node_security_group_id: pulumi.Output[str]
    system_nodes: eks.ManagedNodeGroup
    spark_nodes: eks.ManagedNodeGroup
    coredns: aws.eks.Addon
    provider: k8s.Provider

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:infra:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # Envelope encryption of Kubernetes Secrets (they hold the metastore DB password).
        secrets_key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"EKS secrets encryption for {args.cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=7,
            opts=child,
        )

        cluster = eks.Cluster(
            name,
            eks.ClusterArgs(
                name=args.cluster_name,
                version=args.kubernetes_version,
                vpc_id=args.vpc_id,
                private_subnet_ids=args.private_subnet_ids,
                public_subnet_ids=args.public_subnet_ids,
                node_associate_public_ip_address=False,
                endpoint_private_access=True,
                endpoint_public_access=True,
                public_access_cidrs=list(args.api_allowed_cidrs),
                authentication_mode=eks.AuthenticationMode.API,
                access_entries={
                    f"admin-{i}": eks.AccessEntryArgs(
                        principal_arn=arn,
                        access_policies={
                            "cluster-admin": eks.AccessPolicyAssociationArgs(
                                policy_arn=_CLUSTER_ADMIN_POLICY,
                                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(
                                    type="cluster"
                                ),
                            )
                        },
                    )
                    for i, arn in enumerate(args.admin_principal_arns)
                },
                create_oidc_provider=True,
                # Node groups are declared below; the default one would be untainted,
                # unlabelled and self-managed.
                skip_default_node_group=True,
                # Managed node groups use the EKS-created cluster security group; the
                # component's extra node/cluster groups would be unused.
                skip_default_security_groups=True,
                encryption_config_key_arn=secrets_key.arn,
                enabled_cluster_log_types=list(args.control_plane_log_types),
                # Installed below, once a node group it can run on exists.
                coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
                # The workloads' NetworkPolicies are only enforced when the VPC CNI runs
                # its network-policy agent; without this they would be silently ignored.
                vpc_cni_options=eks.VpcCniOptionsArgs(enable_network_policy=True),
            ),
            opts=child,
        )

        node_role = aws.iam.Role(
            f"{name}-node-role",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{arn.rsplit('/', 1)[-1]}",
                role=node_role.name,
                policy_arn=arn,
                opts=child,
            )
            for arn in _MANAGED_NODE_POLICIES
        ]

        def node_group(key: str, spec: NodeGroupSpec, depends_on: list[pulumi.Resource]):
            template = aws.ec2.LaunchTemplate(
                f"{name}-{key}-lt",
                metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                    http_endpoint="enabled",
                    http_tokens="required",  # IMDSv2 only
                    # One hop: pods (a network namespace away) cannot reach the node's
                    # instance role; their AWS credentials come from IRSA only.
                    http_put_response_hop_limit=1,
                ),
                block_device_mappings=[
                    aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                        device_name="/dev/xvda",
                        ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                            volume_size=spec.disk_gb,
                            volume_type="gp3",
                            encrypted="true",
                            delete_on_termination="true",
                        ),
                    )
                ],
                # Said, not left to the account's default: a burstable node in `standard`
                # mode is throttled to its 20% baseline once its few credits are spent, and a
                # Spark worker launched for a backlog has none (T3 standard earns no launch
                # credits). `unlimited` runs at full speed and bills the surplus
                # (docs/benchmarks.md, *Capacity on paper*, has what that costs).
                credit_specification=(
                    aws.ec2.LaunchTemplateCreditSpecificationArgs(cpu_credits="unlimited")
                    if burstable(spec.config.instance_types)
                    else None
                ),
                tag_specifications=[
                    aws.ec2.LaunchTemplateTagSpecificationArgs(
                        resource_type="instance",
                        tags={"Name": f"{args.cluster_name}-{key}"},
                    )
                ],
                opts=child,
            )
            size = spec.config
            return eks.ManagedNodeGroup(
                f"{name}-{key}",
                eks.ManagedNodeGroupArgs(
                    cluster=cluster,
                    node_role_arn=node_role.arn,
                    subnet_ids=args.private_subnet_ids,
                    capacity_type=spec.capacity_type,
                    instance_types=list(size.instance_types),
                    ami_type=_AMI_TYPE,
                    # With a launch template, EKS keeps a node group on the version it was
                    # created with: without this, a kubernetesVersion bump upgrades the control
                    # plane and leaves the nodes behind (until they are too old to join).
                    version=args.kubernetes_version,
                    scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                        min_size=size.min_nodes,
                        desired_size=size.min_nodes,
                        max_size=size.max_nodes,
                    ),
                    # The Cluster Autoscaler owns the desired size once the group exists.
                    ignore_scaling_changes=True,
                    labels=spec.labels,
                    taints=list(spec.taints),
                    launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                        id=template.id, version=template.latest_version.apply(str)
                    ),
                ),
                # Nodes that boot before their role's policies are attached never join.
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
            )

        self.system_nodes = node_group("system", args.system, attachments)
        self.spark_nodes = node_group("spark", args.spark, attachments)

        # With skip_default_node_group the component installs no CoreDNS add-on; installing
        # it only now makes its pods land on (and only on) the untainted system group.
        self.coredns = aws.eks.Addon(
            f"{name}-coredns",
            cluster_name=args.cluster_name,
            addon_name="coredns",
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            configuration_values=json.dumps(
                {"nodeSelector": {contract.POOL_LABEL: contract.SYSTEM_POOL}}
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.system_nodes]),
        )

        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        # Resolves only once the cluster exists, so users of the name wait for it.
        self.cluster_name = cluster.kubeconfig_json.apply(lambda _: args.cluster_name)
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.oidc_provider_url = cluster.oidc_provider_url
        # With skip_default_security_groups this is the EKS-created cluster security group,
        # which managed node groups attach to every node.
        self.node_security_group_id = cluster.node_security_group_id
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            # If the cluster is already gone, drop its objects from state instead of failing
            # `pulumi destroy` on an unreachable API server.
            delete_unreachable=True,
            opts=child,
        )
        self.register_outputs(
            {"cluster_name": self.cluster_name, "oidc_provider_arn": self.oidc_provider_arn}
        )
