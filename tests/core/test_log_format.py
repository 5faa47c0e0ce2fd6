"""Reading `etl.log_format`: names, format strings, nginx.conf directives, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import runtimes
from core.errors import ConfigError
from core.log_format import NAMED, parse_log_format
from core.runtimes import embedded
from core.settings import (
    EtlSettings,
    LocalStackSettings,
    load_settings_file,
    load_stack_settings_file,
    parse_settings,
    render_settings_toml,
    render_stack_toml,
)


def test_named_formats_are_nginx_strings() -> None:
    assert NAMED["combined"] == (
        '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
        '"$http_referer" "$http_user_agent"'
    )
    assert NAMED["main"] == NAMED["combined"] + ' "$http_x_forwarded_for"'
    assert NAMED["timed"] == NAMED["main"] + " $request_time $upstream_response_time"
    assert NAMED["vhost"] == "$host " + NAMED["combined"]


def test_a_directive_copied_from_nginx_conf_is_its_concatenated_strings() -> None:
    directive = """log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';"""
    parsed = parse_log_format(directive)
    assert parsed.text == NAMED["main"]
    assert parsed.escape == "default"
    assert (
        parse_log_format(
            "log_format j escape=json '$msec $remote_addr $status $body_bytes_sent';"
        ).escape
        == "json"
    )


def test_segments_split_on_quotes_into_literals_and_variables() -> None:
    parsed = parse_log_format(
        '${remote_addr}:$remote_port $msec "$request" $status $body_bytes_sent $foo'
    )
    assert [(s.literals, s.variables) for s in parsed.segments] == [
        (("", ":", " ", " "), ("remote_addr", "remote_port", "msec")),
        (("", ""), ("request",)),
        ((" ", " ", " ", ""), ("status", "body_bytes_sent", "foo")),
    ]
    assert parsed.time_variable == "msec"
    assert parsed.extra_variables == ("foo",)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("$remote_addr$remote_user [$time_local] $status $body_bytes_sent",
         "$remote_addr and $remote_user have nothing between them"),
        ("$remote_addr [$time_local] $status", "lacks $body_bytes_sent"),
        ('$remote_addr "$request" $status $body_bytes_sent', "lacks a time ($time_local"),
        ("combind", "neither a named format (combined, main, timed, vhost) nor"),
        ("log_format x escape=html '$remote_addr $msec $status $body_bytes_sent';",
         "escape=html is not an nginx escape mode"),
    ],
)  # fmt: skip
def test_unusable_formats_are_config_errors_naming_the_problem(
    tmp_path: Path, value: str, message: str
) -> None:
    data = embedded(tmp_path).to_toml_dict()
    data["etl"]["log_format"] = value
    with pytest.raises(ConfigError, match=r"setting 'etl\.log_format'") as err:
        parse_settings(data)
    assert message in str(err.value)


def test_the_local_stack_file_carries_etl_settings(tmp_path: Path) -> None:
    path = tmp_path / "stack.toml"
    stack = LocalStackSettings(etl=EtlSettings(log_format="timed"))
    path.write_text(render_stack_toml(stack))
    assert runtimes.local_stack(load_stack_settings_file(path)).etl.log_format == "timed"
    assert runtimes.local_stack(LocalStackSettings()).etl.log_format == "combined"


def test_a_settings_file_keeps_a_format_string_with_quotes_and_backslashes(tmp_path: Path) -> None:
    fmt = r'$remote_addr [$time_local] "$request" $status $body_bytes_sent "$http_x_a\b"'
    settings = embedded(tmp_path).model_copy(update={"etl": EtlSettings(log_format=fmt)})
    path = tmp_path / "settings.toml"
    path.write_text(render_settings_toml(settings))
    assert load_settings_file(path).etl.log_format == fmt
