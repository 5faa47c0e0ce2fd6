"""Security properties over *every* resource of a kind, in every stack.

Each test first asserts it found something to check, so none passes vacuously; a resource
added later without the guard rail fails here even if nobody wrote a test for it.
"""

from __future__ import annotations

import json

from tests.pulumi_mocks import TEST_DB_PASSWORD, Deployment, Registered, policy_statements

BUCKET = "aws:s3/bucket:Bucket"
READ_ONLY_PREFIXES = ("Describe", "Get", "List")


def attached(d: Deployment, type_: str, bucket: Registered) -> list[Registered]:
    return [r for r in d.of_type(type_) if r.inputs["bucket"] == bucket.id]


def iam_documents(d: Deployment) -> list[tuple[str, str]]:
    """(where, document) for every identity policy the program declares."""
    inline = [(p.name, p.inputs["policy"]) for p in d.of_type("aws:iam/rolePolicy:RolePolicy")]
    managed = [(p.name, p.inputs["policy"]) for p in d.of_type("aws:iam/policy:Policy")]
    return inline + managed


def data_bucket_arns(d: Deployment) -> set[str]:
    return {b.outputs["arn"] for b in d.of_type(BUCKET)}


def test_every_bucket_blocks_all_public_access(deployment: Deployment):
    buckets = deployment.of_type(BUCKET)
    assert buckets
    for bucket in buckets:
        [block] = attached(
            deployment, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket
        )
        flags = (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
        assert {flag: block.inputs.get(flag) for flag in flags} == dict.fromkeys(flags, True)
        assert "acl" not in bucket.inputs and "policy" not in bucket.inputs


def test_every_bucket_is_encrypted_by_default(deployment: Deployment):
    buckets = deployment.of_type(BUCKET)
    assert buckets
    for bucket in buckets:
        [sse] = attached(
            deployment,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            bucket,
        )
        algorithms = {
            r["applyServerSideEncryptionByDefault"]["sseAlgorithm"] for r in sse.inputs["rules"]
        }
        assert algorithms and algorithms <= {"AES256", "aws:kms", "aws:kms:dsse"}


def test_every_bucket_ignores_acls(deployment: Deployment):
    buckets = deployment.of_type(BUCKET)
    assert buckets
    for bucket in buckets:
        [ownership] = attached(
            deployment, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", bucket
        )
        assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_every_bucket_refuses_plain_http(deployment: Deployment):
    buckets = deployment.of_type(BUCKET)
    assert buckets
    for bucket in buckets:
        [policy] = attached(deployment, "aws:s3/bucketPolicy:BucketPolicy", bucket)
        statements = policy_statements(policy.inputs["policy"])
        # A bucket policy here only ever restricts: nothing is granted to any principal.
        assert all(s["Effect"] == "Deny" for s in statements)
        assert any(
            s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )


def test_no_database_is_public_or_unencrypted(deployment: Deployment):
    databases = deployment.of_type("aws:rds/instance:Instance")
    assert databases
    for db in databases:
        assert db.inputs["publiclyAccessible"] is False
        assert db.inputs["storageEncrypted"] is True
        assert db.inputs["backupRetentionPeriod"] >= 1
        assert "password" in db.secret_inputs


def test_no_security_group_rule_is_open_to_the_internet(deployment: Deployment):
    rules = deployment.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rules
    for rule in rules:
        assert rule.inputs.get("cidrIpv4") != "0.0.0.0/0"
        assert rule.inputs.get("cidrIpv6") != "::/0"
    for group in deployment.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert "ingress" not in group.inputs  # inline rules would dodge the check above


def test_no_iam_statement_allows_wildcard_actions(deployment: Deployment):
    documents = iam_documents(deployment)
    assert len(documents) >= 5
    for where, document in documents:
        for statement in policy_statements(document):
            if statement["Effect"] == "Allow":
                assert not [a for a in statement["Action"] if "*" in a], where


def test_no_iam_statement_grants_data_buckets_by_wildcard(deployment: Deployment):
    documents = iam_documents(deployment)
    buckets = data_bucket_arns(deployment)
    for where, document in documents:
        for statement in policy_statements(document):
            s3_actions = [a for a in statement["Action"] if a.startswith("s3:")]
            for resource in statement["Resource"]:
                if s3_actions:
                    # Exactly a data bucket, or the objects of one: never "*" or a pattern.
                    assert resource in buckets | {f"{b}/*" for b in buckets}, where


def test_wildcard_resources_only_for_reads_or_behind_a_tag_condition(deployment: Deployment):
    checked = 0
    for where, document in iam_documents(deployment):
        for statement in policy_statements(document):
            if "*" in statement["Resource"] and statement["Effect"] == "Allow":
                checked += 1
                read_only = all(
                    a.split(":", 1)[1].startswith(READ_ONLY_PREFIXES) for a in statement["Action"]
                )
                tag_scoped = any(
                    key.startswith("aws:ResourceTag/")
                    for condition in statement.get("Condition", {}).values()
                    for key in condition
                )
                assert read_only or tag_scoped, where
    assert checked  # the autoscaler's Describe* and tag-scoped scaling statements


def test_each_irsa_trust_names_exactly_one_service_account(deployment: Deployment):
    federated = [
        (role, statement)
        for role in deployment.of_type("aws:iam/role:Role")
        for statement in policy_statements(role.inputs["assumeRolePolicy"])
        if "Federated" in statement.get("Principal", {})
    ]
    assert len(federated) == 6  # five workloads and the autoscaler
    for role, statement in federated:
        assert set(statement["Condition"]) == {"StringEquals"}, role.name  # no StringLike
        subjects = [
            v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")
        ]
        assert len(subjects) == 1 and isinstance(subjects[0], str), role.name
        assert subjects[0].startswith("system:serviceaccount:") and "*" not in subjects[0]


def test_every_role_has_exactly_one_trust_statement(deployment: Deployment):
    roles = deployment.of_type("aws:iam/role:Role")
    assert roles
    for role in roles:
        assert len(policy_statements(role.inputs["assumeRolePolicy"])) == 1, role.name


def test_every_launch_template_requires_imdsv2_and_encrypts_disks(deployment: Deployment):
    templates = deployment.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert templates
    for template in templates:
        assert template.inputs["metadataOptions"]["httpTokens"] == "required"
        assert all(m["ebs"]["encrypted"] == "true" for m in template.inputs["blockDeviceMappings"])


def test_every_image_repository_is_scanned_and_encrypted(deployment: Deployment):
    repositories = deployment.of_type("aws:ecr/repository:Repository")
    assert repositories
    for repo in repositories:
        assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "AES256"}]


def test_the_database_password_appears_nowhere_in_clear(deployment: Deployment):
    for resource in deployment.resources:
        clear = {k: v for k, v in resource.inputs.items() if k not in resource.secret_inputs}
        assert TEST_DB_PASSWORD not in json.dumps(clear, default=str), resource.urn
    for name, value in deployment.exports.items():
        if name not in deployment.secret_exports:
            assert TEST_DB_PASSWORD not in json.dumps(value, default=str), name


def test_kubeconfig_is_exported_as_a_secret(deployment: Deployment):
    assert "kubeconfig" in deployment.secret_exports
