"""`python -m generator`: the container's entry point (the main CLI calls generate()).

    python -m generator /tmp/input --start 2024-10-07 --days 3 --lines 1000000
    python -m generator --config /etc/lakehouse/settings.toml --lines 10000000

With `--config`, the destination defaults to the settings' input URI and S3 access uses
the settings' S3 section; `--s3-*` flags are for ad-hoc runs without a config file.
Errors a user can fix are printed as one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ConfigError, LakehouseError
from core.log_format import NAMED
from generator.traffic import TrafficSpec
from generator.writer import generate

if TYPE_CHECKING:
    from core.settings import S3Settings

_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _offset(text: str) -> int:
    """`+0530`, `-09:30` or plain minutes (`330`)."""
    match = _OFFSET.fullmatch(text)
    if match:
        sign, hours, minutes = match.groups()
        value = int(hours) * 60 + int(minutes)
        return -value if sign == "-" else value
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a UTC offset (+HHMM, -HH:MM or minutes): {text!r}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    defaults = TrafficSpec(start=dt.date(2000, 1, 1))
    parser = argparse.ArgumentParser(
        prog="python -m generator",
        description="Write realistic nginx access logs (gzip) in the raw layout "
        "<dest>/nginx/dt=YYYY-MM-DD/hour=HH/.",
    )
    parser.add_argument(
        "destination",
        nargs="?",
        help="directory, file:// or s3://bucket/prefix URI "
        "(default with --config: the settings' input URI)",
    )
    parser.add_argument(
        "--start", type=_date, help="first UTC day, YYYY-MM-DD (default: DAYS days before today)"
    )
    parser.add_argument("--days", type=int, default=defaults.days)
    parser.add_argument("--lines", type=int, default=defaults.lines, help="total lines")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--files-per-hour", type=int, default=defaults.files_per_hour)
    parser.add_argument(
        "--utc-offset",
        type=_offset,
        default=defaults.utc_offset_minutes,
        help="the server's UTC offset: +0200, 330 (minutes), =-09:30",
    )
    parser.add_argument("--host", default=defaults.host, help="server name in file names")
    parser.add_argument(
        "--log-format",
        default=None,
        choices=list(NAMED),
        help="nginx log_format to write (core/log_format.py: timed adds request and "
        f"upstream times; default: the settings' etl.log_format with --config, else "
        f"{defaults.log_format})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes (default: the CPUs available, cgroup quota "
        "included, at most one per 200k lines)",
    )
    parser.add_argument("--config", type=Path, help="lakehouse settings TOML file")
    parser.add_argument("--s3-endpoint", help="S3-compatible endpoint URL (default: AWS)")
    parser.add_argument("--s3-region", default=None)
    parser.add_argument("--s3-path-style", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    return parser


def _log_format(args: argparse.Namespace, default: str) -> str:
    """--log-format, else the settings' etl.log_format (what the ETL will parse), else `default`."""
    if args.log_format is not None:
        return str(args.log_format)
    if args.config is None:
        return default
    from core.settings import load_settings_file

    configured = load_settings_file(args.config).etl.log_format
    if configured not in NAMED:
        raise ConfigError(
            f"generator: etl.log_format in {args.config} is a format string of your own; the "
            f"generator writes the named formats ({', '.join(NAMED)}): pass --log-format NAME"
        )
    return configured


def _s3_settings(args: argparse.Namespace) -> tuple[str | None, S3Settings | None]:
    """Destination and S3 settings from --config and/or the --s3-* flags."""
    destination: str | None = args.destination
    s3: S3Settings | None = None
    if args.config is not None:
        from core.settings import load_settings_file

        settings = load_settings_file(args.config)
        s3 = settings.storage.s3
        destination = destination or settings.storage.input_uri
    if args.s3_endpoint or args.s3_region or args.s3_path_style:
        from core.settings import S3Settings

        base = s3 or S3Settings()
        s3 = base.model_copy(
            update={
                k: v
                for k, v in (
                    ("endpoint", args.s3_endpoint),
                    ("region", args.s3_region),
                    ("path_style", args.s3_path_style or None),
                )
                if v is not None
            }
        )
    return destination, s3


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        destination, s3 = _s3_settings(args)
        if not destination:
            raise ConfigError("generator: give a destination or --config")
        start = args.start or (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=args.days))
        spec = TrafficSpec(
            start=start,
            days=args.days,
            lines=args.lines,
            seed=args.seed,
            files_per_hour=args.files_per_hour,
            utc_offset_minutes=args.utc_offset,
            host=args.host,
            log_format=_log_format(args, TrafficSpec.log_format),
        )
        result = generate(spec, destination, s3=s3, workers=args.workers)
    except LakehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        rate = result.lines / result.seconds if result.seconds else 0.0
        print(
            f"wrote {result.lines:,} lines in {len(result.files)} files under {destination} "
            f"({result.bytes_compressed / 1e6:.1f} MB gzip, {result.bytes_raw / 1e6:.1f} MB "
            f"raw) in {result.seconds:.1f} s: {rate:,.0f} lines/s"
        )
    return 0


if __name__ == "__main__":  # spawn workers import this module as __mp_main__: keep it guarded
    sys.exit(main())
