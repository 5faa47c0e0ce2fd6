"""S3: input, processed and warehouse buckets, each locked down, encrypted and cleaned up."""

from __future__ import annotations

import pytest

from tests.pulumi_mocks import Deployment, Registered, policy_statements

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def bucket(d: Deployment, key: str) -> Registered:
    [found] = [b for b in d.of_type(BUCKET) if b.inputs["bucketPrefix"].endswith(f"-{key}-")]
    return found


def attached(d: Deployment, type_: str, to: Registered) -> list[Registered]:
    return [r for r in d.of_type(type_) if r.inputs["bucket"] == to.id]


def lifecycle_rules(d: Deployment, key: str) -> dict[str, dict]:
    [config] = attached(d, LIFECYCLE, bucket(d, key))
    return {rule["id"]: rule for rule in config.inputs["rules"]}


def test_three_buckets_named_after_the_stack(deployment: Deployment):
    prefixes = sorted(b.inputs["bucketPrefix"] for b in deployment.of_type(BUCKET))
    stack = deployment.stack
    assert prefixes == [
        f"nginx-lakehouse-{stack}-input-",
        f"nginx-lakehouse-{stack}-processed-",
        f"nginx-lakehouse-{stack}-warehouse-",
    ]


@pytest.mark.parametrize("key", ["input", "warehouse"])
def test_source_data_and_iceberg_files_are_versioned(deployment: Deployment, key: str):
    [versioning] = attached(deployment, VERSIONING, bucket(deployment, key))
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"


def test_processed_output_is_reproducible_so_not_versioned(deployment: Deployment):
    assert attached(deployment, VERSIONING, bucket(deployment, "processed")) == []


def test_raw_logs_expire_after_the_configured_retention(dev: Deployment, prod: Deployment):
    for d, days in ((dev, 30), (prod, 400)):
        rule = lifecycle_rules(d, "input")["expire-raw-logs"]
        assert rule["filter"]["prefix"] == "nginx/"
        assert rule["expiration"]["days"] == days


def test_long_kept_raw_logs_move_to_infrequent_access(dev: Deployment, prod: Deployment):
    assert lifecycle_rules(prod, "input")["expire-raw-logs"]["transitions"] == [
        {"days": 30, "storageClass": "STANDARD_IA"}
    ]
    # 30-day retention: IA's 30-day minimum charge would cost more than it saves.
    assert "transitions" not in lifecycle_rules(dev, "input")["expire-raw-logs"]


@pytest.mark.parametrize("key", ["input", "warehouse"])
def test_old_versions_expire_so_versioning_does_not_grow_forever(dev, prod, key: str):
    for d, days in ((dev, 7), (prod, 30)):
        rule = lifecycle_rules(d, key)["expire-noncurrent-versions"]
        assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == days


def test_warehouse_objects_are_never_expired_by_age(deployment: Deployment):
    # Iceberg decides which files are garbage (snapshot expiry), not S3.
    rules = lifecycle_rules(deployment, "warehouse").values()
    assert not any("expiration" in rule for rule in rules)


def test_spark_event_logs_expire(deployment: Deployment):
    rule = lifecycle_rules(deployment, "processed")["expire-spark-event-logs"]
    assert rule["filter"]["and"]["prefix"] == "spark-events/"
    assert rule["expiration"]["days"] == 30


@pytest.mark.parametrize("key", ["input", "processed", "warehouse"])
def test_abandoned_multipart_uploads_are_cleaned(deployment: Deployment, key: str):
    rule = lifecycle_rules(deployment, key)["abort-incomplete-multipart-uploads"]
    assert rule["status"] == "Enabled"
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7


def test_lifecycle_waits_for_versioning(deployment: Deployment):
    for key in ("input", "warehouse"):
        b = bucket(deployment, key)
        [config] = attached(deployment, LIFECYCLE, b)
        [versioning] = attached(deployment, VERSIONING, b)
        assert versioning.urn in config.dependencies


def test_bucket_policy_waits_for_the_public_access_block(deployment: Deployment):
    for b in deployment.of_type(BUCKET):
        [policy] = attached(deployment, "aws:s3/bucketPolicy:BucketPolicy", b)
        [block] = attached(deployment, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", b)
        assert block.urn in policy.dependencies


def test_bucket_policy_only_denies_plain_http(deployment: Deployment):
    for b in deployment.of_type(BUCKET):
        [policy] = attached(deployment, "aws:s3/bucketPolicy:BucketPolicy", b)
        [statement] = policy_statements(policy.inputs["policy"])
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert statement["Resource"] == [b.outputs["arn"], f"{b.outputs['arn']}/*"]


def rule_applies(rule: dict, key: str, size: int) -> bool:
    """S3's lifecycle filter semantics for a prefix and an object-size bound."""
    f = rule["filter"].get("and", rule["filter"])
    return key.startswith(f.get("prefix", "")) and size > f.get("objectSizeGreaterThan", -1)


def test_the_event_log_directory_marker_never_expires(deployment: Deployment):
    [marker] = deployment.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    assert marker.inputs["bucket"] == bucket(deployment, "processed").id
    rules = lifecycle_rules(deployment, "processed").values()
    expiring = [r for r in rules if "expiration" in r]
    assert not [r["id"] for r in expiring if rule_applies(r, marker.inputs["key"], 0)]
    # ...while the logs under it still do.
    log = "spark-events/app-20241007120000-0000"
    assert [r["id"] for r in expiring if rule_applies(r, log, 52_000)] == [
        "expire-spark-event-logs"
    ]
