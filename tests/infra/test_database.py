"""RDS PostgreSQL for the metastore: private, node-only access, encrypted, backed up."""

from __future__ import annotations

from tests.pulumi_mocks import CLUSTER_SG, TEST_DB_PASSWORD, Deployment, Registered, run_program

INSTANCE = "aws:rds/instance:Instance"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def db(d: Deployment) -> Registered:
    return d.one(INSTANCE)


def test_postgres_matching_the_local_replica(deployment: Deployment):
    inputs = db(deployment).inputs
    assert inputs["engine"] == "postgres"
    assert inputs["engineVersion"] == "15"
    assert inputs["autoMinorVersionUpgrade"] is True
    assert (inputs["dbName"], inputs["username"], inputs["port"]) == ("metastore", "hive", 5432)


def test_database_lives_in_the_private_subnets_only(deployment: Deployment):
    group = deployment.by_id(db(deployment).inputs["dbSubnetGroupName"])
    private = {
        s.id
        for s in deployment.of_type("aws:ec2/subnet:Subnet")
        if s.inputs["tags"]["lakehouse.io/tier"] == "private"
    }
    assert set(group.inputs["subnetIds"]) == private
    assert db(deployment).inputs["publiclyAccessible"] is False


def test_only_the_cluster_nodes_may_connect_and_only_on_5432(deployment: Deployment):
    [sg_id] = db(deployment).inputs["vpcSecurityGroupIds"]
    rules = [r for r in deployment.of_type(INGRESS) if r.inputs["securityGroupId"] == sg_id]
    assert [
        (r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"])
        for r in rules
    ] == [(CLUSTER_SG, 5432, 5432)]
    assert not any("cidrIpv4" in r.inputs or "cidrIpv6" in r.inputs for r in rules)
    security_group = deployment.by_id(sg_id)
    assert "ingress" not in security_group.inputs and "egress" not in security_group.inputs


def test_storage_is_encrypted(deployment: Deployment):
    assert db(deployment).inputs["storageEncrypted"] is True


def test_connections_must_use_tls(deployment: Deployment):
    params = deployment.by_id(db(deployment).inputs["parameterGroupName"])
    assert params.inputs["family"] == "postgres15"
    assert {"name": "rds.force_ssl", "value": "1"} in params.inputs["parameters"]


def test_backups_are_on_for_the_configured_days(dev: Deployment, prod: Deployment):
    assert db(dev).inputs["backupRetentionPeriod"] == 1
    assert db(prod).inputs["backupRetentionPeriod"] == 14


def test_master_password_comes_from_secret_config_and_stays_secret(deployment: Deployment):
    instance = db(deployment)
    assert instance.inputs["password"] == TEST_DB_PASSWORD
    assert "password" in instance.secret_inputs
    assert "manageMasterUserPassword" not in instance.inputs


def test_prod_database_survives_pulumi_destroy(prod: Deployment):
    inputs = db(prod).inputs
    assert inputs["deletionProtection"] is True
    assert inputs["skipFinalSnapshot"] is False
    # Unique per instance (a random suffix): a fixed name collided with the snapshot an
    # earlier incarnation of the stack left behind.
    assert inputs["finalSnapshotIdentifier"].startswith("nginx-lakehouse-prod-metastore-final-")
    suffix = prod.one("random:index/randomId:RandomId").outputs["hex"]
    assert inputs["finalSnapshotIdentifier"].endswith(f"-{suffix}")


def test_dev_database_is_disposable(dev: Deployment):
    inputs = db(dev).inputs
    assert inputs["deletionProtection"] is False
    assert inputs["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in inputs


def test_prod_destroy_refuses_up_front_and_keeps_the_data_when_it_runs(prod: Deployment):
    # Issue #13, item 4. protect: the preview of `pulumi destroy` fails before anything is
    # deleted. When it runs (protectData lifted), the database leaves a final snapshot and
    # its automated backups, and the buckets stay.
    instance = db(prod)
    assert instance.protect is True
    assert instance.inputs["deleteAutomatedBackups"] is False
    for bucket in prod.of_type("aws:s3/bucket:Bucket"):
        assert (bucket.protect, bucket.retain_on_delete) == (True, True), bucket.name


def test_lifting_protection_for_teardown_still_takes_the_final_snapshot():
    # The documented prod teardown: protectData false, `pulumi up`, `pulumi destroy`.
    d = run_program("prod", overrides={"protectData": False}, workloads=False)
    inputs = db(d).inputs
    assert db(d).protect is False
    assert inputs["deletionProtection"] is False
    assert inputs["skipFinalSnapshot"] is False
    assert inputs["finalSnapshotIdentifier"].startswith("nginx-lakehouse-prod-metastore-final-")
    assert inputs["deleteAutomatedBackups"] is False
    for bucket in d.of_type("aws:s3/bucket:Bucket"):
        assert (bucket.protect, bucket.retain_on_delete) == (False, True), bucket.name


def test_dev_destroy_deletes_everything(dev: Deployment):
    assert db(dev).protect is False
    assert db(dev).inputs["deleteAutomatedBackups"] is True
    for bucket in dev.of_type("aws:s3/bucket:Bucket"):
        assert (bucket.protect, bucket.retain_on_delete) == (False, False), bucket.name
