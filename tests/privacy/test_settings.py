"""The privacy settings: defaults, validation, the TOML round trip, and no place for a key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import runtimes
from core.errors import ConfigError
from core.settings import (
    ClientIpPolicy,
    RetentionSettings,
    load_settings_file,
    parse_settings,
    render_settings_toml,
)


def base(tmp_path: Path) -> dict:
    return runtimes.embedded(tmp_path).to_toml_dict()


def test_defaults_keep_everything_forever(tmp_path: Path) -> None:
    settings = parse_settings(base(tmp_path))
    assert settings.etl.client_ip == ClientIpPolicy.KEEP
    assert (settings.etl.ipv4_prefix, settings.etl.ipv6_prefix) == (24, 48)
    assert settings.etl.redact_query_params == ()
    assert settings.retention == RetentionSettings(
        access_logs_days=None, rejected_lines_days=None, reports_days=None
    )


def test_privacy_settings_survive_the_toml_round_trip(tmp_path: Path) -> None:
    data = base(tmp_path)
    data["etl"] |= {
        "client_ip": "hash",
        "ipv4_prefix": 16,
        "ipv6_prefix": 56,
        "redact_query_params": ["token", "user.email", "ids[]"],
    }
    data["retention"] = {"access_logs_days": 90, "reports_days": 400}
    settings = parse_settings(data)
    path = tmp_path / "settings.toml"
    path.write_text(render_settings_toml(settings))
    assert load_settings_file(path) == settings
    assert 'redact_query_params = ["token", "user.email", "ids[]"]' in path.read_text()


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        (
            "etl",
            {"client_ip": "mask"},
            "setting 'etl.client_ip': Input should be 'keep', 'truncate' or 'hash'",
        ),
        ("etl", {"ipv4_prefix": 33}, "setting 'etl.ipv4_prefix'"),
        ("etl", {"ipv6_prefix": -1}, "setting 'etl.ipv6_prefix'"),
        ("etl", {"redact_query_params": ["a|b"]}, "setting 'etl.redact_query_params'"),
        ("retention", {"access_logs_days": 0}, "setting 'retention.access_logs_days'"),
        # The key never comes from the settings file (a ConfigMap on EKS).
        ("etl", {"ip_hash_key": "secret"}, "unknown setting 'etl.ip_hash_key'"),
    ],
)
def test_bad_privacy_settings_name_the_setting(
    tmp_path: Path, section: str, values: dict, message: str
) -> None:
    data = base(tmp_path)
    data[section] = {**data.get(section, {}), **values}
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        parse_settings(data, "settings.toml")
    assert "\n" not in str(caught.value)
