"""EKS: access entries + OIDC, an on-demand system group and a tainted spot Spark group."""

from __future__ import annotations

import json

import pytest

from tests.pulumi_mocks import CREATOR_ARN, KUBECONFIG, Deployment, Registered, run_program
from workloads import contract

CLUSTER = "eks:index:Cluster"
NODE_GROUP = "eks:index:ManagedNodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


def node_group(d: Deployment, key: str) -> Registered:
    return d.one(NODE_GROUP, f"eks-{key}")


def launch_template_of(d: Deployment, group: Registered) -> Registered:
    return d.by_id(group.inputs["launchTemplate"]["id"])


def test_cluster_uses_access_entries_not_the_aws_auth_configmap(deployment: Deployment):
    assert deployment.one(CLUSTER).inputs["authenticationMode"] == "API"


def test_cluster_has_an_oidc_provider_for_irsa(deployment: Deployment):
    assert deployment.one(CLUSTER).inputs["createOidcProvider"] is True


def test_cluster_is_named_after_the_stack_and_pins_its_version(deployment: Deployment):
    inputs = deployment.one(CLUSTER).inputs
    assert inputs["name"] == f"nginx-lakehouse-{deployment.stack}"
    assert inputs["version"] == "1.34"


def test_cluster_runs_in_the_vpc_with_nodes_in_private_subnets(deployment: Deployment):
    inputs = deployment.one(CLUSTER).inputs
    subnets = deployment.of_type("aws:ec2/subnet:Subnet")
    private = [s.id for s in subnets if s.inputs["tags"]["lakehouse.io/tier"] == "private"]
    public = [s.id for s in subnets if s.inputs["tags"]["lakehouse.io/tier"] == "public"]
    assert inputs["vpcId"] == deployment.one("aws:ec2/vpc:Vpc").id
    assert inputs["privateSubnetIds"] == private
    assert inputs["publicSubnetIds"] == public
    assert inputs["nodeAssociatePublicIpAddress"] is False
    for key in ("system", "spark"):
        assert node_group(deployment, key).inputs["subnetIds"] == private


def test_kubernetes_secrets_are_encrypted_with_a_rotated_kms_key(deployment: Deployment):
    key = deployment.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert deployment.one(CLUSTER).inputs["encryptionConfigKeyArn"] == key.outputs["arn"]


def test_no_default_node_group_and_no_early_coredns(deployment: Deployment):
    inputs = deployment.one(CLUSTER).inputs
    assert inputs["skipDefaultNodeGroup"] is True
    assert inputs["corednsAddonOptions"]["enabled"] is False


def test_vpc_cni_enforces_network_policies(deployment: Deployment):
    # Without the CNI's policy agent the workloads' NetworkPolicies would be ignored.
    assert deployment.one(CLUSTER).inputs["vpcCniOptions"]["enableNetworkPolicy"] is True


def test_system_group_is_on_demand_untainted_and_labelled(deployment: Deployment):
    inputs = node_group(deployment, "system").inputs
    assert inputs["capacityType"] == "ON_DEMAND"
    assert inputs["taints"] == []
    assert inputs["labels"] == {contract.POOL_LABEL: contract.SYSTEM_POOL}


def test_spark_group_is_spot_tainted_and_labelled_for_the_workers(deployment: Deployment):
    inputs = node_group(deployment, "spark").inputs
    assert inputs["capacityType"] == "SPOT"
    assert inputs["taints"] == [
        {
            "key": contract.SPARK_TAINT_KEY,
            "value": contract.SPARK_TAINT_VALUE,
            "effect": "NO_SCHEDULE",
        }
    ]
    assert contract.SPARK_TAINT_EFFECT == "NoSchedule"  # what the workers tolerate
    assert inputs["labels"] == {contract.POOL_LABEL: contract.SPARK_POOL}


def test_spark_group_scales_from_three_to_six_nodes(deployment: Deployment):
    inputs = node_group(deployment, "spark").inputs
    assert inputs["scalingConfig"] == {"minSize": 3, "desiredSize": 3, "maxSize": 6}
    # The autoscaler owns the desired size; `pulumi up` must not reset it.
    assert inputs["ignoreScalingChanges"] is True


def test_spark_instance_types_come_from_config(dev: Deployment, prod: Deployment):
    # dev keeps the seed's default; prod adds a second family for more spot capacity.
    assert node_group(dev, "spark").inputs["instanceTypes"] == ["t3.medium"]
    assert node_group(prod, "spark").inputs["instanceTypes"] == ["t3.medium", "t3a.medium"]


def test_node_groups_run_amazon_linux_2023_x86(deployment: Deployment):
    for key in ("system", "spark"):
        assert node_group(deployment, key).inputs["amiType"] == "AL2023_x86_64_STANDARD"


@pytest.mark.parametrize("key", ["system", "spark"])
def test_nodes_require_imdsv2_and_hide_it_from_pods(deployment: Deployment, key: str):
    template = launch_template_of(deployment, node_group(deployment, key))
    assert template.inputs["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
    }


@pytest.mark.parametrize("key", ["system", "spark"])
def test_burstable_nodes_are_never_throttled_to_their_baseline(deployment: Deployment, key: str):
    # t3 in `standard` mode (an account default can say so) runs at 20% once out of credits.
    template = launch_template_of(deployment, node_group(deployment, key))
    assert template.inputs["creditSpecification"] == {"cpuCredits": "unlimited"}


def test_other_families_get_no_credit_mode():
    spark = run_program("dev", {"sparkInstanceTypes": ["m6i.large", "m5.large"]}, workloads=False)
    template = launch_template_of(spark, node_group(spark, "spark"))
    assert "creditSpecification" not in template.inputs


@pytest.mark.parametrize("key", ["system", "spark"])
def test_node_root_volumes_are_encrypted(deployment: Deployment, key: str):
    template = launch_template_of(deployment, node_group(deployment, key))
    [mapping] = template.inputs["blockDeviceMappings"]
    assert mapping["deviceName"] == "/dev/xvda"
    assert mapping["ebs"]["encrypted"] == "true"


@pytest.mark.parametrize("key", ["system", "spark"])
def test_node_groups_wait_for_the_node_role_policies(deployment: Deployment, key: str):
    group = node_group(deployment, key)
    role = deployment.one("aws:iam/role:Role", "eks-node-role")
    assert group.inputs["nodeRoleArn"] == role.outputs["arn"]
    for attachment in deployment.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        assert attachment.urn in group.dependencies


def test_coredns_is_installed_after_and_onto_the_system_group(deployment: Deployment):
    coredns = deployment.one("aws:eks/addon:Addon", "eks-coredns")
    assert coredns.inputs["addonName"] == "coredns"
    assert coredns.inputs["clusterName"] == deployment.one(CLUSTER).inputs["name"]
    assert node_group(deployment, "system").urn in coredns.dependencies
    assert json.loads(coredns.inputs["configurationValues"]) == {
        "nodeSelector": {contract.POOL_LABEL: contract.SYSTEM_POOL}
    }


def test_kubernetes_provider_uses_the_cluster_kubeconfig_as_a_secret(deployment: Deployment):
    provider = deployment.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == KUBECONFIG
    assert "kubeconfig" in provider.secret_inputs


def test_admin_principals_get_cluster_admin_through_access_entries():
    admin = "arn:aws:iam::123456789012:role/platform-admin"
    d = run_program("dev", overrides={"adminPrincipalArns": [admin]}, workloads=False)
    entries = d.one(CLUSTER).inputs["accessEntries"]
    assert entries == {
        "admin-0": {
            "principalArn": admin,
            "accessPolicies": {
                "cluster-admin": {
                    "policyArn": (
                        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
                    ),
                    "accessScope": {"type": "cluster"},
                }
            },
        }
    }


def test_node_groups_follow_the_kubernetes_version(deployment: Deployment):
    # With a launch template EKS leaves a node group on its creation version unless told.
    for group in deployment.of_type("eks:index:ManagedNodeGroup"):
        assert group.inputs["version"] == "1.34", group.name
        assert group.inputs["launchTemplate"]["version"] == "1"


def test_an_admin_principal_equal_to_the_creator_is_refused():
    # EKS already makes the creator an admin (bootstrapClusterCreatorAdminPermissions); a
    # second access entry for the same principal fails the first `pulumi up` half-way.
    with pytest.raises(Exception, match=r"adminPrincipalArns.*deployer.*creator"):
        run_program("dev", overrides={"adminPrincipalArns": [CREATOR_ARN]}, workloads=False)
