"""Dockerfiles: they parse, pin their base images, run as a non-root user, and install the
jars core/jars.toml pins (same versions, same SHA-1s). The metastore image is ours and
must exist; spark/ and generator/ images are checked when their Dockerfiles exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from core.jars import Artifact, artifacts_for, load_lock
from core.settings import METASTORE_PORT
from workloads import config_files, contract
from workloads.metastore import HMS
from workloads.spark_cluster import IMAGE_JARS, SPARK_HOME, TINI

REPO = Path(__file__).resolve().parents[2]
METASTORE = REPO / "workloads/images/hive-metastore/Dockerfile"
OTHERS = {
    "spark": (REPO / "spark/Dockerfile", contract.SPARK_UID),
    "generator": (REPO / "generator/Dockerfile", contract.GENERATOR_UID),
}
FETCH = re.compile(r"fetch-maven\s+(\S+)\s+([0-9a-f]{40})\b")


def parse(path: Path) -> DockerfileParser:
    return DockerfileParser(path=str(path))


def base_images(dockerfile: DockerfileParser) -> list[str]:
    """FROM images (ARGs resolved), without references to earlier build stages."""
    stages = {
        words[2]
        for i in dockerfile.structure
        if i["instruction"] == "FROM"
        and len(words := i["value"].split()) == 3
        and words[1].upper() == "AS"
    }
    return [image for image in dockerfile.parent_images if image not in stages]


def is_pinned(image: str) -> bool:
    """A digest, or a tag naming an exact release (x.y.z, or a date stamp)."""
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return False
    return tag != "latest" and bool(re.search(r"\d+\.\d+\.\d+|\d{8}", tag))


def final_user(dockerfile: DockerfileParser) -> str | None:
    user = None
    for instruction in dockerfile.structure:
        if instruction["instruction"] == "FROM":
            user = None  # USER does not carry over between stages
        elif instruction["instruction"] == "USER":
            user = instruction["value"].strip()
    return user


def created_uids(dockerfile: DockerfileParser) -> set[int]:
    runs = " ".join(i["value"] for i in dockerfile.structure if i["instruction"] == "RUN")
    return {int(u) for u in re.findall(r"(?:--uid|-u)\s+(\d+)", runs)}


def fetched(dockerfile: DockerfileParser) -> dict[str, Artifact]:
    runs = " ".join(i["value"] for i in dockerfile.structure if i["instruction"] == "RUN")
    artifacts = [Artifact.parse(c, sha1, ()) for c, sha1 in FETCH.findall(runs)]
    return {f"{a.group}:{a.artifact}": a for a in artifacts}


@pytest.mark.parametrize(
    "image",
    ["eclipse-temurin:17.0.17_10-jre-noble", "debian:bookworm-20241111-slim", "x@sha256:ab"],
)
def test_pinned_image_references(image: str) -> None:
    assert is_pinned(image)


@pytest.mark.parametrize(
    "image", ["python:3.11-slim", "eclipse-temurin:17-jre", "ubuntu", "x:latest"]
)
def test_floating_image_references(image: str) -> None:
    assert not is_pinned(image)


# --- the metastore image (ours) ----------------------------------------------------------


def test_metastore_dockerfile_pins_its_base_image() -> None:
    images = base_images(parse(METASTORE))
    assert images and all(is_pinned(i) for i in images), images


def test_metastore_image_runs_as_the_contract_uid() -> None:
    dockerfile = parse(METASTORE)
    uid = contract.METASTORE_UID
    assert final_user(dockerfile) in (str(uid), f"{uid}:{uid}")
    assert uid in created_uids(dockerfile)  # a passwd entry: Hadoop's login needs it


def test_metastore_image_installs_exactly_the_jars_toml_metastore_pins() -> None:
    pinned = {f"{a.group}:{a.artifact}": a for a in artifacts_for(["metastore"])}
    assert pinned, "core/jars.toml has no `metastore` set"
    installed = fetched(parse(METASTORE))
    missing = sorted(set(pinned) - set(installed))
    assert not missing, f"jars.toml metastore artifacts not in the image: {missing}"
    for key, artifact in pinned.items():
        assert installed[key] == artifact.__class__(**{**artifact.__dict__, "sets": ()}), key


def test_metastore_image_extras_are_pinned_like_any_other_jar() -> None:
    pinned = {f"{a.group}:{a.artifact}" for a in load_lock()}
    extras = {k: a for k, a in fetched(parse(METASTORE)).items() if k not in pinned}
    # STS (IRSA web identity) and its JMESPath dependency; commons-compress for FileUtil.
    assert set(extras) == {
        "com.amazonaws:aws-java-sdk-sts",
        "com.amazonaws:jmespath-java",
        "org.apache.commons:commons-compress",
    }
    sdk = {
        a.version for k, a in fetched(parse(METASTORE)).items() if k.startswith("com.amazonaws:")
    }
    assert sdk == {"1.12.367"}  # one AWS SDK v1 release: hadoop-aws 3.3.6's


def test_metastore_image_agrees_with_the_deployment() -> None:
    dockerfile = parse(METASTORE)
    assert dockerfile.envs["METASTORE_CONF_DIR"] == config_files.METASTORE_CONF_DIR
    exposed = [i["value"] for i in dockerfile.structure if i["instruction"] == "EXPOSE"]
    assert exposed == [str(METASTORE_PORT)]
    copies = " ".join(i["value"] for i in dockerfile.structure if i["instruction"] == "COPY")
    assert f"workloads/images/hive-metastore/hms {HMS}" in copies


# --- the Spark and generator images ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OTHERS))
def test_other_images_are_pinned_non_root_and_agree_with_jars_toml(name: str) -> None:
    path, uid = OTHERS[name]
    dockerfile = parse(path)
    images = base_images(dockerfile)
    assert images and all(is_pinned(i) for i in images), images
    user = final_user(dockerfile)
    assert user and user.split(":")[0] not in ("root", "0"), f"USER is {user!r}"
    uids = created_uids(dockerfile)
    assert not uids or uid in uids, (
        f"pods run as UID {uid} (workloads.contract); image creates {uids}"
    )
    text = path.read_text()
    for artifact in load_lock():
        versions = set(re.findall(rf"\b{re.escape(artifact.artifact)}[-:/](\d[\w.]*\d)", text))
        assert versions <= {artifact.version}, f"{artifact.artifact}: {versions} vs jars.toml"


def test_spark_image_provides_what_the_pods_call() -> None:
    path = REPO / "spark/Dockerfile"
    dockerfile = parse(path)
    assert dockerfile.envs["SPARK_HOME"] == SPARK_HOME
    # History Server's SPARK_DAEMON_CLASSPATH points at the image's jar cache.
    assert dockerfile.envs["LAKEHOUSE_JAR_CACHE"] == IMAGE_JARS
    # Pods start daemons and the driver under /usr/bin/tini (Debian's `tini` package).
    installs = " ".join(i["value"] for i in dockerfile.structure if i["instruction"] == "RUN")
    assert re.search(r"apt-get install[^&]*\btini\b", installs)
    entrypoint = [i["value"] for i in dockerfile.structure if i["instruction"] == "ENTRYPOINT"]
    assert TINI[0] in entrypoint[-1]


def test_spark_image_builds_the_drivers_cds_archive() -> None:
    """A full `lakehouse setup` (not `--only`) builds the archive; it must run after
    SPARK_HOME and LAKEHOUSE_JAR_CACHE are set (the archive is named by SPARK_HOME's jars
    and kept in the jar cache, where every driver session looks) and as root, before USER."""
    steps = parse(REPO / "spark/Dockerfile").structure

    def first(instruction: str, pattern: str) -> int:
        found = [
            i
            for i, step in enumerate(steps)
            if step["instruction"] == instruction and re.search(pattern, step["value"])
        ]
        assert found, f"no {instruction} matching {pattern!r}"
        return found[0]

    build = first("RUN", r"\blakehouse setup(?![^&|;]*--only)")
    assert first("ENV", r"\bSPARK_HOME=") < build
    assert first("ENV", r"\bLAKEHOUSE_JAR_CACHE=") < build
    assert build < first("USER", r".")


def test_generator_image_runs_the_module_the_cronjob_calls() -> None:
    path = REPO / "generator/Dockerfile"
    entrypoint = [i["value"] for i in parse(path).structure if i["instruction"] == "ENTRYPOINT"]
    assert entrypoint and '"-m", "generator"' in entrypoint[-1]


def _pins(path: Path) -> dict[str, str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return dict(line.split("==", 1) for line in lines if line)


def test_spark_image_pins_are_the_projects_pins() -> None:
    """The Spark image installs a subset of requirements.txt, at the same versions."""
    image, project = _pins(REPO / "spark/requirements.txt"), _pins(REPO / "requirements.txt")
    assert image, "spark/requirements.txt pins nothing"
    assert {name: project.get(name) for name in image} == image
