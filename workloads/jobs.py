"""The generator, the ETL and table maintenance as CronJobs; run any on demand with
`kubectl create job --from=cronjob/<name>` (docs/workloads.md).

Maintenance (`lakehouse maintain`: compaction, snapshot expiry, orphan files) must run
alone: an orphan-file sweep during a commit could delete the files being committed, and
compaction would conflict with the ETL's MERGEs. Each CronJob forbids overlapping itself;
the two schedules share out the hourly slots (the ETL takes every :15 but 03:15, the
maintenance that one) and each run fits its slot: its start may slip by
STARTING_DEADLINE_SECONDS, then its activeDeadlineSeconds kills it, together under an hour.
tests/workloads/test_jobs.py checks that the schedules never put both in one window.

The ETL driver runs in client mode inside its job pod on the system group, never on spot:
losing a worker costs some tasks, losing the driver costs the run. Executors (on the
workers) connect back to the driver at its pod IP, which Spark advertises because
SPARK_LOCAL_IP is set from the downward API (the settings leave spark.driver.host unset).
An init container first makes sure the event-log directory exists (workloads/event_logs.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from core.settings import IP_HASH_KEY_ENV, Settings
from workloads import config_files, contract, event_logs, sizing
from workloads.objects import (
    NOT_SAFE_TO_EVICT,
    TMP,
    Scope,
    config_volume,
    container,
    env,
    pod_ip_env,
    pod_spec,
    read_only_mount,
    resources,
    service_account,
    system_pool,
)
from workloads.spark_cluster import TINI, spark_conf_env, spark_conf_mount

ETL_NAME = "etl"
GENERATOR_NAME = "generator"
MAINTENANCE_NAME = "maintenance"
LAKEHOUSE = "lakehouse"  # the project's CLI, installed in the Spark image
# The generator image carries only the generator and its settings model, not the CLI.
GENERATOR = ["python", "-m", "generator"]
# A run that has not finished in this time is stuck (a 10M-line run takes minutes): kill
# it so that the next schedule can start (concurrencyPolicy Forbid waits otherwise).
ETL_DEADLINE_SECONDS = 45 * 60
GENERATOR_DEADLINE_SECONDS = 15 * 60
MAINTENANCE_DEADLINE_SECONDS = 45 * 60
# Missed by more than this (controller down): skip, the next run catches up.
STARTING_DEADLINE_SECONDS = 600
# The ETL is idempotent (a re-run adds nothing): retrying a failed run is safe.
ETL_RETRIES = 2
# A suspended CronJob is still a template for `kubectl create job --from=cronjob/...`.
NEVER = "0 0 1 1 *"
# The HMAC key of `etl.client_ip = "hash"` (docs/privacy.md). The operator creates this
# Secret with kubectl, so the key is in neither the settings ConfigMap nor Pulumi's state.
# Optional: the other policies need no Secret, and a hash policy without one fails the run
# with one line naming the variable.
IP_HASH_SECRET = "lakehouse-ip-hash-key"
IP_HASH_SECRET_KEY = "key"


@dataclass
class JobsArgs:
    scope: Scope
    settings: pulumi.Output[Settings]
    spark_image: pulumi.Input[str]
    generator_image: pulumi.Input[str]
    settings_config_map: pulumi.Input[str]
    spark_config_map: pulumi.Input[str]
    etl_role_arn: pulumi.Input[str]
    generator_role_arn: pulumi.Input[str]
    etl_schedule: str
    maintenance_schedule: str
    generator_schedule: str | None
    generator_args: Sequence[str]


def _ip_hash_key_env() -> k8s.core.v1.EnvVarArgs:
    return k8s.core.v1.EnvVarArgs(
        name=IP_HASH_KEY_ENV,
        value_from=k8s.core.v1.EnvVarSourceArgs(
            secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(
                name=IP_HASH_SECRET, key=IP_HASH_SECRET_KEY, optional=True
            )
        ),
    )


def _settings_mount() -> k8s.core.v1.VolumeMountArgs:
    return read_only_mount("settings", config_files.SETTINGS_DIR)


class Jobs(pulumi.ComponentResource):
    etl: k8s.batch.v1.CronJob
    maintenance: k8s.batch.v1.CronJob
    generator: k8s.batch.v1.CronJob
    etl_service_account: k8s.core.v1.ServiceAccount

    def __init__(self, name: str, args: JobsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:workloads:Jobs", name, None, opts)
        self._etl(name, args)
        self._maintenance(name, args)
        self._generator(name, args)
        self.register_outputs({"etl": self.etl.metadata.name})

    def _cron_job(
        self,
        resource_name: str,
        scope: Scope,
        job_name: str,
        *,
        schedule: str | None,
        deadline_seconds: int,
        retries: int,
        pod: k8s.core.v1.PodSpecArgs,
        annotations: dict[str, str] | None = None,
    ) -> k8s.batch.v1.CronJob:
        labels = scope.labels(job_name, "job")
        return k8s.batch.v1.CronJob(
            resource_name,
            metadata=scope.metadata("job", job_name),
            spec=k8s.batch.v1.CronJobSpecArgs(
                schedule=schedule or NEVER,
                suspend=schedule is None,
                time_zone="Etc/UTC",  # logs are partitioned by UTC day and hour
                concurrency_policy="Forbid",
                starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
                successful_jobs_history_limit=3,
                failed_jobs_history_limit=3,
                job_template=k8s.batch.v1.JobTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.batch.v1.JobSpecArgs(
                        backoff_limit=retries,
                        active_deadline_seconds=deadline_seconds,
                        # Also cleans up jobs created by hand from the CronJob.
                        ttl_seconds_after_finished=3 * 24 * 3600,
                        template=k8s.core.v1.PodTemplateSpecArgs(
                            metadata=k8s.meta.v1.ObjectMetaArgs(
                                labels=labels, annotations=annotations
                            ),
                            spec=pod,
                        ),
                    ),
                ),
            ),
            opts=scope.opts(self),
        )

    def _spark_driver_pod(self, args: JobsArgs, command: list[str]) -> k8s.core.v1.PodSpecArgs:
        """A pod running one `lakehouse` command as a Spark driver (client mode)."""
        driver = container(
            name="driver",
            image=args.spark_image,
            command=[*TINI, LAKEHOUSE, *command, "--config", config_files.SETTINGS_PATH],
            env=[
                pod_ip_env(),
                # The driver binds and advertises the pod IP; executors connect to it.
                *env({"SPARK_LOCAL_IP": "$(POD_IP)", "SPARK_LOCAL_HOSTNAME": "$(POD_IP)"}),
                *spark_conf_env(),
                _ip_hash_key_env(),
            ],
            mounts=[_settings_mount(), spark_conf_mount(), TMP.mount()],
            resources=args.settings.apply(
                lambda s: resources(
                    sizing.driver_size(s.spark).millicores, sizing.driver_size(s.spark).memory_mib
                )
            ),
        )
        return pod_spec(
            uid=contract.SPARK_UID,
            service_account=self.etl_service_account.metadata.name,
            placement=system_pool(),
            init_containers=[event_logs.create_directory(args.spark_image, args.settings)],
            containers=[driver],
            volumes=[
                config_volume("settings", args.settings_config_map),
                config_volume("spark-conf", args.spark_config_map),
                TMP.volume(),
            ],
            restart_policy="Never",  # each retry is a new pod, with its own logs
        )

    def _etl(self, name: str, args: JobsArgs) -> None:
        scope = args.scope
        self.etl_service_account = service_account(
            scope, self, f"{name}-etl-sa", contract.SA_ETL, "job", args.etl_role_arn
        )
        self.etl = self._cron_job(
            f"{name}-etl",
            scope,
            ETL_NAME,
            schedule=args.etl_schedule,
            deadline_seconds=ETL_DEADLINE_SECONDS,
            retries=ETL_RETRIES,
            pod=self._spark_driver_pod(args, ["etl"]),
            annotations=NOT_SAFE_TO_EVICT,
        )

    def _maintenance(self, name: str, args: JobsArgs) -> None:
        # The ETL's identity: it reads, rewrites and deletes the warehouse's files, as the
        # ETL does, and nothing else.
        self.maintenance = self._cron_job(
            f"{name}-maintenance",
            args.scope,
            MAINTENANCE_NAME,
            schedule=args.maintenance_schedule,
            deadline_seconds=MAINTENANCE_DEADLINE_SECONDS,
            # Idempotent, but a failure waits for the next night rather than into the ETL's
            # next slot.
            retries=0,
            pod=self._spark_driver_pod(args, ["maintain"]),
            annotations=NOT_SAFE_TO_EVICT,
        )

    def _generator(self, name: str, args: JobsArgs) -> None:
        scope = args.scope
        account = service_account(
            scope,
            self,
            f"{name}-generator-sa",
            contract.SA_GENERATOR,
            "job",
            args.generator_role_arn,
        )
        generator = container(
            name="generator",
            image=args.generator_image,
            command=[*GENERATOR, "--config", config_files.SETTINGS_PATH, *args.generator_args],
            env=env({"HOME": TMP.path}),
            mounts=[_settings_mount(), TMP.mount()],
            resources=resources(sizing.GENERATOR.millicores, sizing.GENERATOR.memory_mib),
        )
        self.generator = self._cron_job(
            f"{name}-generator",
            scope,
            GENERATOR_NAME,
            schedule=args.generator_schedule,
            deadline_seconds=GENERATOR_DEADLINE_SECONDS,
            retries=1,
            pod=pod_spec(
                uid=contract.GENERATOR_UID,
                service_account=account.metadata.name,
                placement=system_pool(),
                containers=[generator],
                volumes=[config_volume("settings", args.settings_config_map), TMP.volume()],
                restart_policy="Never",
            ),
        )
