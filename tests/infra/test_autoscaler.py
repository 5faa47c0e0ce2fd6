"""Cluster Autoscaler: installed with Helm, its own IRSA role, scoped to this cluster's groups."""

from __future__ import annotations

from tests.pulumi_mocks import OIDC_ARN, Deployment, Registered, policy_statements

RELEASE = "kubernetes:helm.sh/v3:Release"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/MOCKOIDC"


def release(d: Deployment) -> Registered:
    return d.one(RELEASE, "cluster-autoscaler")


def role(d: Deployment) -> Registered:
    return d.one("aws:iam/role:Role", "cluster-autoscaler-irsa")


def test_chart_and_image_are_pinned_from_config(deployment: Deployment):
    inputs = release(deployment).inputs
    assert inputs["chart"] == "cluster-autoscaler"
    assert inputs["version"] == "9.52.1"
    assert inputs["repositoryOpts"] == {"repo": "https://kubernetes.github.io/autoscaler"}
    assert inputs["values"]["image"] == {"tag": "v1.34.0"}
    assert inputs["namespace"] == "kube-system"


def test_discovers_the_node_groups_of_this_cluster(deployment: Deployment):
    values = release(deployment).inputs["values"]
    assert values["cloudProvider"] == "aws"
    assert values["awsRegion"] == "us-east-1"
    cluster_name = deployment.one("eks:index:Cluster").inputs["name"]
    assert values["autoDiscovery"] == {"clusterName": cluster_name}


def test_can_scale_down_spark_nodes_that_hold_shuffle_files(deployment: Deployment):
    extra_args = release(deployment).inputs["values"]["extraArgs"]
    assert extra_args["skip-nodes-with-local-storage"] == "false"


def test_runs_on_the_system_group_after_it_exists(deployment: Deployment):
    r = release(deployment)
    assert r.inputs["values"]["nodeSelector"] == {"lakehouse.io/pool": "system"}
    assert deployment.one("eks:index:ManagedNodeGroup", "eks-system").urn in r.dependencies


def test_is_deployed_through_the_clusters_kubernetes_provider(deployment: Deployment):
    provider = deployment.one("pulumi:providers:kubernetes")
    assert release(deployment).provider.startswith(provider.urn)


def test_service_account_is_bound_to_its_irsa_role(deployment: Deployment):
    service_account = release(deployment).inputs["values"]["rbac"]["serviceAccount"]
    assert service_account["name"] == "cluster-autoscaler"
    assert service_account["annotations"] == {
        "eks.amazonaws.com/role-arn": role(deployment).outputs["arn"]
    }
    [trust] = policy_statements(role(deployment).inputs["assumeRolePolicy"])
    assert trust["Principal"] == {"Federated": OIDC_ARN}
    assert trust["Condition"]["StringEquals"][f"{ISSUER}:sub"] == (
        "system:serviceaccount:kube-system:cluster-autoscaler"
    )


def test_may_resize_only_auto_scaling_groups_owned_by_this_cluster(deployment: Deployment):
    [policy] = [
        p
        for p in deployment.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role(deployment).id
    ]
    cluster_name = deployment.one("eks:index:Cluster").inputs["name"]
    mutating = [
        s
        for s in policy_statements(policy.inputs["policy"])
        if not all(a.split(":")[1].startswith(("Describe", "Get")) for a in s["Action"])
    ]
    assert [sorted(s["Action"]) for s in mutating] == [
        ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
    ]
    assert mutating[0]["Condition"] == {
        "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}
    }
