"""The ETL, maintenance and the generator as CronJobs: never overlapping, the driver on the
system group and reachable by its executors, each job with its own identity."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.settings import IP_HASH_KEY_ENV, ClientIpPolicy, EtlSettings, Settings
from tests.pulumi_mocks import Deployment, deploy
from tests.workloads.conftest import aws_settings, workloads_program
from tests.workloads.pods import container, env, pod_of
from workloads import sizing


def cron(deployment: Deployment, name: str) -> dict:
    return deployment.named("CronJob", name).manifest()["spec"]


def test_etl_runs_hourly_in_utc_and_never_overlaps(deployment: Deployment) -> None:
    spec = cron(deployment, "etl")
    # Every hour at :15 but 03:15, the maintenance slot (issue #13, item 8).
    assert spec["schedule"] == "15 0-2,4-23 * * *"
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


# --- maintenance never overlaps an ETL run ---------------------------------------------


def cron_field(text: str, low: int, high: int) -> set[int]:
    """Values of one cron field: *, n, a-b, a,b and */s or a-b/s (no names)."""
    values: set[int] = set()
    for part in text.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first, last = (int(v) for v in span.split("-"))
        else:
            first = last = int(span)
        values |= set(range(first, last + 1, int(step or 1)))
    return values


def fire_times(schedule: str, days: int = 8) -> list[datetime]:
    """When a (minute hour * * *) schedule fires over `days` days, in UTC."""
    minute, hour, day, month, weekday = schedule.split()
    assert (day, month, weekday) == ("*", "*", "*"), "extend fire_times for day fields"
    minutes, hours = cron_field(minute, 0, 59), cron_field(hour, 0, 23)
    start = datetime(2024, 10, 7)
    return [
        start + timedelta(days=d, hours=h, minutes=m)
        for d in range(days)
        for h in sorted(hours)
        for m in sorted(minutes)
    ]


def windows(spec: dict) -> list[tuple[datetime, datetime]]:
    """[earliest start, latest end) of each run: the start may slip by the starting deadline,
    then activeDeadlineSeconds (which covers every retry) ends it."""
    slip = timedelta(seconds=spec["startingDeadlineSeconds"])
    run = timedelta(seconds=spec["jobTemplate"]["spec"]["activeDeadlineSeconds"])
    return [(t, t + slip + run) for t in fire_times(spec["schedule"])]


def test_cron_field_reads_cron_syntax() -> None:
    assert cron_field("*/30", 0, 59) == {0, 30}
    assert cron_field("0-2,4-6", 0, 23) == {0, 1, 2, 4, 5, 6}
    assert cron_field("15", 0, 59) == {15}


def test_maintenance_is_a_job_like_the_others(deployment: Deployment) -> None:
    spec = cron(deployment, "maintenance")
    assert spec["schedule"] == "15 3 * * *"
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec.get("suspend") is False
    driver = container(deployment, "CronJob", "maintenance", "driver")
    assert driver["command"] == [
        "/usr/bin/tini",
        "--",
        "lakehouse",
        "maintain",
        "--config",
        "/etc/lakehouse/settings.toml",
    ]
    pod = pod_of(deployment, "CronJob", "maintenance")
    # The ETL's identity: the warehouse's files, read, rewritten and deleted.
    assert pod["serviceAccountName"] == "etl"
    assert pod["restartPolicy"] == "Never"


def test_maintenance_and_etl_windows_never_overlap(deployment: Deployment) -> None:
    etl = windows(cron(deployment, "etl"))
    maintenance = windows(cron(deployment, "maintenance"))
    assert len(maintenance) == 8  # nightly
    overlapping = [(m, e) for m in maintenance for e in etl if m[0] < e[1] and e[0] < m[1]]
    assert overlapping == []


def test_the_old_hourly_etl_would_overlap_the_maintenance(deployment: Deployment) -> None:
    # The check above can fail: with the ETL at every :15, as before, it would.
    etl = windows({**cron(deployment, "etl"), "schedule": "15 * * * *"})
    maintenance = windows(cron(deployment, "maintenance"))
    assert any(m[0] < e[1] and e[0] < m[1] for m in maintenance for e in etl)


@pytest.mark.parametrize("name", ["etl", "maintenance"])
def test_a_running_driver_is_not_evicted_by_the_cluster_autoscaler(
    deployment: Deployment, name: str
) -> None:
    template = cron(deployment, name)["jobTemplate"]["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"] == "false"


def test_the_ip_hash_key_reaches_the_driver_from_a_secret_never_the_config_map() -> None:
    etl = EtlSettings(client_ip=ClientIpPolicy.HASH, redact_query_params=("token",))
    hashing = aws_settings().model_copy(update={"etl": etl})
    manifests = deploy(workloads_program(hashing))
    # The ETL hashes new rows; maintenance needs the key for `maintain --rewrite-ips`.
    for job in ("etl", "maintenance"):
        driver = env(container(manifests, "CronJob", job, "driver"))
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
