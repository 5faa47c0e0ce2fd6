"""Bad parameters fail fast with a message naming the setting; destinations and S3."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import SecretStr

from core.errors import ConfigError
from core.settings import S3Settings
from generator import TrafficSpec, generate
from generator.writer import parse_destination, s3_filesystem_options

START = dt.date(2024, 10, 7)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"days": 0}, "days must be between 1 and"),
        ({"days": "3"}, "days must be an integer"),
        ({"lines": -1}, "lines must be >= 0"),
        ({"lines": True}, "lines must be an integer"),
        ({"files_per_hour": 0}, "files_per_hour must be between 1 and 60"),
        ({"utc_offset_minutes": 15 * 60}, "utc_offset_minutes must be between -720 and 840"),
        ({"utc_offset_minutes": -13 * 60}, "utc_offset_minutes"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"host": "web 1"}, "host must be"),
        ({"host": "../etc"}, "host must be"),
        ({"start": "2024-10-07"}, "start must be a date"),
        ({"start": dt.datetime(2024, 10, 7, 12)}, "start must be a date"),
    ],
)
def test_bad_spec_values_are_config_errors(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrafficSpec(**{"start": START, **changes})


def test_defaults_are_the_documented_ones() -> None:
    spec = TrafficSpec(start=START)
    assert (
        spec.days,
        spec.lines,
        spec.seed,
        spec.files_per_hour,
        spec.utc_offset_minutes,
        spec.host,
    ) == (3, 100_000, 42, 1, 0, "web-1")


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        ("", "destination is empty"),
        ("gs://bucket/x", "unsupported scheme 'gs'"),
        ("s3://", "names no bucket"),
        ("file://otherhost/x", "must be local"),
    ],
)
def test_bad_destinations(destination: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        generate(TrafficSpec(start=START, lines=10), destination, workers=1)


def test_bad_workers() -> None:
    with pytest.raises(ConfigError, match="workers must be a positive integer"):
        generate(TrafficSpec(start=START, lines=10), "/tmp/unused", workers=0)


@pytest.mark.parametrize(
    ("destination", "scheme", "root"),
    [
        ("s3://input", "s3", "input"),
        ("s3://input/raw/", "s3", "input/raw"),
        ("s3a://input/a/b", "s3", "input/a/b"),
        ("file:///data/in", "file", "/data/in"),
        ("file:/data/in", "file", "/data/in"),
        ("/data/in/", "local", "/data/in"),
    ],
)
def test_destination_forms(destination: str, scheme: str, root: str) -> None:
    parsed = parse_destination(destination)
    assert (parsed.scheme, parsed.root) == (scheme, root)


def test_s3_uris_are_reported_in_the_scheme_given() -> None:
    relative = "nginx/dt=2024-10-07/hour=00/access-web-1-2024100700.log.gz"
    assert parse_destination("s3://in/raw").uri(relative) == f"s3://in/raw/{relative}"
    assert parse_destination("s3a://in").uri(relative) == f"s3a://in/{relative}"


def test_unwritable_destination_is_an_input_error(tmp_path: Any) -> None:
    from core.errors import InputError

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(InputError, match="cannot write"):
        generate(TrafficSpec(start=START, days=1, lines=10), str(blocker / "x"), workers=1)


def test_s3_options_for_a_local_s3_compatible_server() -> None:
    s3 = S3Settings(
        endpoint="http://127.0.0.1:19000",
        region="us-east-1",
        path_style=True,
        access_key=SecretStr("local-access-key"),
        secret_key=SecretStr("local-secret-key"),
    )
    assert s3_filesystem_options(s3) == {
        "region": "us-east-1",
        "endpoint_override": "127.0.0.1:19000",
        "scheme": "http",
        "force_virtual_addressing": False,
        "access_key": "local-access-key",
        "secret_key": "local-secret-key",
    }


def test_s3_options_on_aws_use_the_default_credential_chain() -> None:
    # No endpoint, no keys: pyarrow falls back to env, profile, IRSA web identity, IMDS.
    assert s3_filesystem_options(S3Settings(region="eu-west-1")) == {"region": "eu-west-1"}
    assert s3_filesystem_options(None) == {}
    virtual = s3_filesystem_options(S3Settings(endpoint="https://s3.example.net"))
    assert virtual["force_virtual_addressing"] is True and virtual["scheme"] == "https"


def test_s3_options_are_accepted_by_pyarrow() -> None:
    from pyarrow import fs

    s3 = S3Settings(
        endpoint="http://127.0.0.1:1",
        path_style=True,
        access_key=SecretStr("k"),
        secret_key=SecretStr("s"),
    )
    filesystem = fs.S3FileSystem(**s3_filesystem_options(s3))  # no request is made here
    assert filesystem.region == "us-east-1"
