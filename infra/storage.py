"""S3 buckets for raw input, processed output and the Iceberg warehouse.

Every bucket gets the same guard rails from `_SecureBucket`: all public access blocked,
ACLs disabled, default encryption, TLS-only access, abandoned multipart uploads cleaned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

_ABORT_MULTIPART_AFTER_DAYS = 7
# Spark event logs (for the History Server) are diagnostics, not data.
_SPARK_EVENTS_RETENTION_DAYS = 30
# Where drivers write event logs in the processed bucket (core.runtimes.aws: event_log_dir).
SPARK_EVENTS_PREFIX = "spark-events/"
# S3 Standard-IA bills at least 30 days and only pays off for objects kept well beyond that.
_INFREQUENT_ACCESS_AFTER_DAYS = 30


@dataclass
class StorageArgs:
    name_prefix: str
    # False in protected stacks: `pulumi destroy` then refuses to delete a non-empty bucket.
    force_destroy: bool
    raw_log_retention_days: int
    noncurrent_version_retention_days: int
    # Pulumi `protect`: `pulumi destroy` refuses up front instead of failing half-way.
    protect: bool = False
    # `pulumi destroy` removes the buckets from the stack and leaves them, data included.
    retain_on_delete: bool = False


@dataclass
class _BucketSpec:
    versioned: bool
    rules: list[aws.s3.BucketLifecycleConfigurationRuleArgs] = field(default_factory=list)


class _SecureBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket

    def __init__(
        self,
        name: str,
        bucket_prefix: str,
        spec: _BucketSpec,
        force_destroy: bool,
        opts: pulumi.ResourceOptions,
        protect: bool = False,
        retain_on_delete: bool = False,
    ):
        super().__init__("lakehouse:infra:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        bucket = aws.s3.Bucket(
            name,
            bucket_prefix=bucket_prefix,
            force_destroy=force_destroy,
            opts=pulumi.ResourceOptions(
                parent=self, protect=protect, retain_on_delete=retain_on_delete
            ),
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        # Bucket owner owns every object and ACLs are ignored: access is IAM policy only.
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        # SSE-S3: encrypted at rest with no KMS key policy to keep in sync with the IRSA roles
        # and no per-request KMS charges on Spark's many small reads.
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=bucket.arn.apply(_deny_insecure_transport),
            # Writing a policy while the public access block is still being applied races.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )

        lifecycle_deps: list[pulumi.Resource] = []
        if spec.versioned:
            lifecycle_deps.append(
                aws.s3.BucketVersioning(
                    f"{name}-versioning",
                    bucket=bucket.id,
                    versioning_configuration={"status": "Enabled"},
                    opts=child,
                )
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-multipart-uploads",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=(
                        aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                            days_after_initiation=_ABORT_MULTIPART_AFTER_DAYS
                        )
                    ),
                ),
                *spec.rules,
            ],
            # A lifecycle configuration on a bucket whose versioning is still changing is
            # applied inconsistently (AWS documents the ordering).
            opts=pulumi.ResourceOptions(parent=self, depends_on=lifecycle_deps),
        )

        self.bucket = bucket
        self.register_outputs({"bucket": bucket.bucket, "arn": bucket.arn})


def _deny_insecure_transport(bucket_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def _expire_noncurrent(days: int) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    # Versioning protects against a bad overwrite or delete for `days`, without keeping
    # every file Iceberg ever expired forever.
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="expire-noncurrent-versions",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        noncurrent_version_expiration=(
            aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=days
            )
        ),
    )


def _raw_log_rules(args: StorageArgs) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    days = args.raw_log_retention_days
    transitions = (
        [
            aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                days=_INFREQUENT_ACCESS_AFTER_DAYS, storage_class="STANDARD_IA"
            )
        ]
        if days > 2 * _INFREQUENT_ACCESS_AFTER_DAYS
        else None
    )
    return [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-raw-logs",
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="nginx/"),
            transitions=transitions,
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
        ),
        _expire_noncurrent(args.noncurrent_version_retention_days),
    ]


class Storage(pulumi.ComponentResource):
    input_bucket: aws.s3.Bucket
    processed_bucket: aws.s3.Bucket
    warehouse_bucket: aws.s3.Bucket
    spark_events_marker: aws.s3.BucketObjectv2

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:infra:Storage", name, None, opts)

        specs = {
            # Raw logs are the only copy of the source data: versioned, expired by age.
            "input": _BucketSpec(versioned=True, rules=_raw_log_rules(args)),
            # Derived output and Spark event logs: reproducible from input + warehouse.
            "processed": _BucketSpec(
                versioned=False,
                rules=[
                    aws.s3.BucketLifecycleConfigurationRuleArgs(
                        id="expire-spark-event-logs",
                        status="Enabled",
                        # Non-empty objects only: the directory marker below (0 bytes) must
                        # outlive every log, or the History Server cannot start.
                        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
                            and_=aws.s3.BucketLifecycleConfigurationRuleFilterAndArgs(
                                prefix=SPARK_EVENTS_PREFIX, object_size_greater_than=0
                            )
                        ),
                        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                            days=_SPARK_EVENTS_RETENTION_DAYS
                        ),
                    )
                ],
            ),
            # Iceberg metadata and data files: a deleted metadata.json breaks the table.
            "warehouse": _BucketSpec(
                versioned=True,
                rules=[_expire_noncurrent(args.noncurrent_version_retention_days)],
            ),
        }
        buckets = {
            key: _SecureBucket(
                f"{name}-{key}",
                bucket_prefix=f"{args.name_prefix}-{key}-",
                spec=spec,
                force_destroy=args.force_destroy,
                protect=args.protect,
                retain_on_delete=args.retain_on_delete,
                opts=pulumi.ResourceOptions(parent=self),
            ).bucket
            for key, spec in specs.items()
        }

        self.input_bucket = buckets["input"]
        self.processed_bucket = buckets["processed"]
        self.warehouse_bucket = buckets["warehouse"]
        # The event-log directory exists from the first `pulumi up` on: the History Server
        # (awaited by Pulumi) fails at start without it, and no ETL has run yet. An empty
        # object whose key ends in "/" is what S3A reads as a directory.
        self.spark_events_marker = aws.s3.BucketObjectv2(
            f"{name}-spark-events",
            bucket=self.processed_bucket.id,
            key=SPARK_EVENTS_PREFIX,
            content="",
            content_type="application/x-directory",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({f"{key}_bucket": b.bucket for key, b in buckets.items()})
