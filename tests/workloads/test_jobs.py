"""The ETL and the generator as CronJobs: never overlapping, the driver on the system group
and reachable by its executors, each job with its own identity."""

from __future__ import annotations

from core.settings import IP_HASH_KEY_ENV, ClientIpPolicy, EtlSettings, Settings
from tests.workloads.conftest import aws_settings, workloads_program
from tests.workloads.harness import Deployment, deploy
from tests.workloads.pods import container, env, pod_of
from workloads import sizing


def cron(deployment: Deployment, name: str) -> dict:
    return deployment.named("CronJob", name).manifest()["spec"]


def test_etl_runs_hourly_in_utc_and_never_overlaps(deployment: Deployment) -> None:
    spec = cron(deployment, "etl")
    assert spec["schedule"] == "15 * * * *"
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec.get("suspend") is False
    job = spec["jobTemplate"]["spec"]
    # A stuck run is killed before the next schedule; a failed one is retried (idempotent).
    assert job["activeDeadlineSeconds"] < 3600
    assert job["backoffLimit"] >= 1
    assert job["template"]["spec"]["restartPolicy"] == "Never"


def test_the_driver_advertises_its_pod_ip_to_the_executors(deployment: Deployment) -> None:
    driver = env(container(deployment, "CronJob", "etl", "driver"))
    assert driver["POD_IP"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    assert driver["SPARK_LOCAL_IP"] == "$(POD_IP)"
    # Kubernetes expands $(VAR) only for variables defined earlier in the list.
    names = list(driver)
    assert names.index("POD_IP") < names.index("SPARK_LOCAL_IP")


def test_the_driver_gets_its_memory_from_the_settings(
    deployment: Deployment, settings: Settings
) -> None:
    resources = container(deployment, "CronJob", "etl", "driver")["resources"]
    heap = sizing.jvm_memory_mib(settings.spark.driver_memory, "x")
    limit = int(resources["limits"]["memory"].removesuffix("Mi"))
    assert heap + sizing.overhead_mib(heap) < limit


def test_generator_runs_on_its_schedule_and_never_overlaps(deployment: Deployment) -> None:
    spec = cron(deployment, "generator")
    assert spec["schedule"] == "*/30 * * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec.get("suspend") is False


def test_without_a_schedule_the_generator_is_a_suspended_template() -> None:
    manual = deploy(workloads_program(generator_schedule=None, generator_args=("--lines", "1000")))
    spec = cron(manual, "generator")
    assert spec["suspend"] is True  # `kubectl create job --from=cronjob/generator` still works
    assert container(manual, "CronJob", "generator", "generator")["command"][-2:] == [
        "--lines",
        "1000",
    ]


def test_job_pods_carry_the_labels_the_network_policies_select(deployment: Deployment) -> None:
    for name in ("etl", "generator"):
        labels = cron(deployment, name)["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == name
    assert pod_of(deployment, "CronJob", "etl")["containers"][0]["name"] == "driver"


def test_the_ip_hash_key_reaches_the_driver_from_a_secret_never_the_config_map() -> None:
    etl = EtlSettings(client_ip=ClientIpPolicy.HASH, redact_query_params=("token",))
    hashing = aws_settings().model_copy(update={"etl": etl})
    manifests = deploy(workloads_program(hashing))
    driver = env(container(manifests, "CronJob", "etl", "driver"))
    assert driver[IP_HASH_KEY_ENV] == {
        "secretKeyRef": {"name": "lakehouse-ip-hash-key", "key": "key", "optional": True}
    }
    # The policy is in the settings ConfigMap; no key is, under any name.
    rendered = "\n".join(
        text for cm in manifests.of_kind("ConfigMap") for text in cm.manifest()["data"].values()
    )
    assert 'client_ip = "hash"' in rendered
    assert 'redact_query_params = ["token"]' in rendered
    assert IP_HASH_KEY_ENV not in rendered and "hash_key" not in rendered
