"""`lakehouse`: generate logs, run the ETL, print reports, manage the local stack."""

from __future__ import annotations

import json
import sys
import traceback
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

# typer vendors click; its usage errors are these (typer exports only BadParameter).
from typer._click.exceptions import NoArgsIsHelpError, UsageError

from cli.doctor import doctor
from cli.stack import stack_app
from core import jars, runtimes
from core.config import DEFAULT_ROOT, resolve_settings
from core.errors import InputError, LakehouseError
from core.failures import RunContext, service_failure
from core.names import QueryEngine, Table
from core.properties import jar_sets
from core.settings import Settings, parse_settings

app = typer.Typer(
    help="nginx access logs -> Spark -> Apache Iceberg, on a laptop, a local stack or EKS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True, highlight=False)
# What this command runs with and where it is: `main` names a service that went away.
_context = RunContext()

RuntimeOpt = Annotated[
    str | None,
    typer.Option(
        "--runtime",
        "-r",
        help="embedded (default: local dirs, no servers) or local (make stack-up).",
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Settings TOML file (overrides --runtime; $LAKEHOUSE_CONFIG)."
    ),
]
RootOpt = Annotated[
    Path, typer.Option("--root", help="Embedded runtime: where input, warehouse and catalog live.")
]


def _day(text: str | date) -> date:
    """Day options: a bad one is a usage error naming the option, before anything runs."""
    if isinstance(text, date):  # a default
        return text
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a day (YYYY-MM-DD): {exc}") from None


@dataclass
class _Output:
    # --verbose: Spark's warnings on the console, and the stack trace of an error.
    verbose: bool = False


_output = _Output()


@app.callback()
def _global_options(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Show Spark's warnings, and the stack trace of an error."
        ),
    ] = False,
) -> None:
    _output.verbose = verbose


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _settings(runtime: str | None, config: Path | None, root: Path) -> Settings:
    settings = resolve_settings(runtime, config, root)
    if _output.verbose:
        spark = settings.spark.model_copy(update={"log_level": "warn"})
        settings = settings.model_copy(update={"spark": spark})
    _context.settings = settings
    return settings


@app.command()
def setup(
    runtime: RuntimeOpt = None,
    config: ConfigOpt = None,
    root: RootOpt = DEFAULT_ROOT,
    only: Annotated[
        str | None,
        typer.Option(help="Comma-separated jar sets of core/jars.toml (e.g. spark,s3)."),
    ] = None,
) -> None:
    """Download the pinned jars (Maven Central, SHA-1 checked) this runtime needs, and build
    the driver's class-data sharing archive (once per JDK and pyspark)."""
    if only:
        fetch_jars(only.split(","))
        return
    # The archive is built by a small embedded run: its jars are fetched with this runtime's.
    embedded = jar_sets(runtimes.embedded(root))
    fetch_jars(sorted({*jar_sets(_settings(runtime, config, root)), *embedded}))
    build_cds_archive()


def build_cds_archive() -> None:
    from cli.cds import build_archive

    with console.status("class-data sharing archive: building it (once, about a minute)"):
        try:
            archive = build_archive()
        except Exception as exc:  # an optimisation only: runs work without it
            cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            note = f"[yellow]no class-data sharing archive[/] ({cause})"
            console.print(f"{note}: Spark will start without it, a few seconds slower")
            return
    console.print(f"[green]class-data sharing archive ready[/] ({archive})")


def fetch_jars(sets: list[str]) -> None:
    wanted = jars.artifacts_for(sets)
    missing = [a for a in wanted if not (jars.cache_dir() / a.filename).exists()]
    if not missing:
        console.print(f"[green]jars ready[/] ({len(wanted)} pinned, in {jars.cache_dir()})")
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        for artifact in missing:
            task = bar.add_task(artifact.filename, total=None)

            def advance(n: int, total: int | None, task: int = task) -> None:
                bar.update(task, advance=n, total=total)

            jars.fetch(artifact, on_progress=advance)
    console.print(f"[green]jars ready[/] ({len(wanted)} pinned, in {jars.cache_dir()})")


@app.command()
def generate(
    to: Annotated[
        str | None,
        typer.Option(help="Directory, file:// or s3:// URI (default: the input location)."),
    ] = None,
    start: Annotated[
        date | None, typer.Option(parser=_day, help="First day (UTC); default: DAYS ago.")
    ] = None,
    days: Annotated[int, typer.Option(min=1, help="Number of days.")] = 3,
    lines: Annotated[int, typer.Option(min=1, help="Total lines over all days.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 42,
    files_per_hour: Annotated[int, typer.Option(min=1)] = 1,
    runtime: RuntimeOpt = None,
    config: ConfigOpt = None,
    root: RootOpt = DEFAULT_ROOT,
) -> None:
    """Write realistic nginx `combined` logs (gzip, dt=/hour= layout)."""
    settings = _settings(runtime, config, root)
    _generate(settings, to, start, days, lines, seed, files_per_hour)


def _generate(
    settings: Settings,
    to: str | None,
    start: date | None,
    days: int,
    lines: int,
    seed: int,
    files_per_hour: int,
) -> None:
    from generator import TrafficSpec
    from generator import generate as run_generator

    first_day = start or date.today() - timedelta(days=days)
    spec = TrafficSpec(
        start=first_day, days=days, lines=lines, seed=seed, files_per_hour=files_per_hour
    )
    destination = to or settings.storage.input_uri
    with Progress(
        TextColumn("generate"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} lines"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("generate", total=lines)
        result = run_generator(
            spec, destination, s3=settings.storage.s3, on_progress=lambda n: bar.advance(task, n)
        )
    rate = result.lines / result.seconds if result.seconds else 0
    console.print(f"wrote {result.lines:,} lines in {len(result.files)} files to {destination}")
    console.print(f"  {result.bytes_compressed / 1e6:.1f} MB gzip, {rate:,.0f} lines/s")


def _run_etl(settings: Settings, source: str | None) -> None:
    from spark.job import run_etl
    from spark.privacy import check_key

    check_key(settings.etl)  # a hash policy without its key fails before anything starts

    if console.is_terminal:
        with console.status("starting Spark") as status:

            def show(stage: str) -> None:
                _context.stage = stage
                status.update(stage)

            result = run_etl(settings, source_uri=source, progress=show)
    else:
        # Pods, pipes, CI: one line per stage, so a log shows where a run was when it died.
        def log(stage: str) -> None:
            _context.stage = stage
            console.print(f"stage: {stage}", markup=False, highlight=False)

        result = run_etl(settings, source_uri=source, progress=log)
    _context.stage = None
    for uri, cause in result.skipped_files.items():
        err.print(f"[yellow]skipped unreadable file[/] {uri}: {cause} (retried next run)")
    if result.outcome == "nothing-to-do":
        console.print("no new input files: nothing to do (already ingested files are skipped)")
        return
    # Two lines: one would not fit an 80-column terminal or pipe.
    console.print(f"run {result.run_id}: {len(result.files)} files in {result.seconds:.1f} s")
    console.print(
        f"  {result.lines_read:,} lines = {result.accepted:,} accepted "
        f"+ {result.rejected:,} rejected"
    )
    for table, rows in result.rows_written.items():
        console.print(f"  {table}: {rows:,} rows written")


@app.command()
def etl(runtime: RuntimeOpt = None, config: ConfigOpt = None, root: RootOpt = DEFAULT_ROOT) -> None:
    """Ingest new files from the input location into Iceberg and refresh the reports."""
    _run_etl(_settings(runtime, config, root), None)


@app.command()
def ingest(
    source: Annotated[
        str, typer.Argument(help="File, directory, file:// or s3:// prefix (plain or .gz).")
    ],
    runtime: RuntimeOpt = None,
    config: ConfigOpt = None,
    root: RootOpt = DEFAULT_ROOT,
    log_format: Annotated[
        str | None,
        typer.Option(
            help="nginx log_format of these files: combined, main, timed, vhost, or the "
            "format string from nginx.conf (default: the settings' etl.log_format).",
        ),
    ] = None,
) -> None:
    """Ingest existing log files from any path or S3 prefix (any file names)."""
    if "://" not in source:
        path = Path(source).resolve()
        if not path.exists():
            raise InputError(
                f"{source} does not exist: give a log file, a directory of them or an s3:// prefix"
            )
        source = path.as_uri()
    settings = _settings(runtime, config, root)
    if log_format is not None:
        # Through the settings model, so the option is checked like the settings file.
        data = settings.to_toml_dict()
        data["etl"]["log_format"] = log_format
        settings = _context.settings = parse_settings(data, "--log-format")
    _run_etl(settings, source)


@app.command("rebuild-reports")
def rebuild_reports(
    runtime: RuntimeOpt = None, config: ConfigOpt = None, root: RootOpt = DEFAULT_ROOT
) -> None:
    """Recompute the aggregates and every report table from access_logs."""
    from readers.reading import check_lakehouse
    from spark.job import write_reports
    from spark.session import build_session

    settings = _settings(runtime, config, root)
    check_lakehouse(settings, Table.ACCESS_LOGS)
    with console.status("starting Spark"):
        spark = build_session(settings)
    with console.status("rebuilding reports"):
        written = write_reports(spark, settings, None)
    for table, rows in written.items():
        console.print(f"{table}: {rows:,} rows")


@app.command()
def maintain(
    orphan_grace_minutes: Annotated[
        int,
        typer.Option(
            min=0,
            help="Only files older than this are orphans. Lower it only when no ETL is running.",
        ),
    ] = 3 * 24 * 60,
    snapshot_age_days: Annotated[int, typer.Option(min=0)] = 7,
    retain_last: Annotated[int, typer.Option(min=1)] = 10,
    compact: Annotated[bool, typer.Option(help="Rewrite small data files.")] = True,
    rewrite_ips: Annotated[
        bool,
        typer.Option(help="Rewrite stored rows under the current etl.client_ip policy."),
    ] = False,
    runtime: RuntimeOpt = None,
    config: ConfigOpt = None,
    root: RootOpt = DEFAULT_ROOT,
) -> None:
    """Apply retention, expire old snapshots, compact, remove orphan files (run it alone)."""
    from readers.reading import check_lakehouse
    from spark.maintenance import maintain as run_maintenance
    from spark.privacy import check_key
    from spark.session import build_session

    settings = _settings(runtime, config, root)
    if rewrite_ips:
        check_key(settings.etl)  # a settings problem: said before "nothing here yet"
    check_lakehouse(settings)
    with console.status("starting Spark"):
        spark = build_session(settings)
    with console.status("maintaining tables"):
        result = run_maintenance(
            spark,
            settings,
            snapshot_age=timedelta(days=snapshot_age_days),
            retain_last=retain_last,
            orphan_grace=timedelta(minutes=orphan_grace_minutes),
            compact=compact,
            rewrite_ips=rewrite_ips,
        )
    for name, rows in result.rewritten_rows.items():
        console.print(f"rewrote {rows:,} rows of {name} under etl.client_ip")
    for name, rows in result.expired_rows.items():
        console.print(f"retention: deleted {rows:,} rows of {name}")
    console.print(
        f"compacted {sum(result.rewritten_files.values())} files, "
        f"expired {sum(result.expired_snapshots.values())} data files of old snapshots, "
        f"removed {sum(result.orphan_files.values())} orphan files and "
        f"{result.staging_dirs_removed} stale staging directories"
    )


@app.command()
def report(
    name: Annotated[
        str,
        typer.Argument(
            help="A report table, e.g. daily_top_ips, weekly_top_paths, daily_traffic or "
            "daily_latency (docs/reports.md lists them)."
        ),
    ],
    period: Annotated[
        date | None,
        typer.Option(parser=_day, help="Day or week start (YYYY-MM-DD); default: the latest."),
    ] = None,
    segment: Annotated[
        str, typer.Option(help="Top IP, path, 404 and referrer reports: all, human or bot.")
    ] = "all",
    all_periods: Annotated[bool, typer.Option("--all", help="Every period, not just one.")] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.TABLE,
    runtime: RuntimeOpt = None,
    config: ConfigOpt = None,
    root: RootOpt = DEFAULT_ROOT,
) -> None:
    """Print a report table (read with PyIceberg: no JVM start)."""
    from readers import report_view

    settings = _settings(runtime, config, root)
    rows = report_view.load(settings, name, period, segment, all_periods)
    if fmt is Format.JSON:
        sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
    elif fmt is Format.CSV:
        report_view.write_csv(rows, sys.stdout)
    else:
        console.print(report_view.as_rich_table(name, rows))


@app.command()
def runs(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1)] = 20,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.TABLE,
    runtime: RuntimeOpt = None,
    config: ConfigOpt = None,
    root: RootOpt = DEFAULT_ROOT,
) -> None:
    """ETL run history, newest first (PyIceberg: no JVM start)."""
    from readers import history, report_view

    rows = history.recent_runs(_settings(runtime, config, root), limit)
    if fmt is Format.JSON:
        sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
    elif fmt is Format.CSV:
        report_view.write_csv(rows, sys.stdout)
    else:
        console.print(history.as_rich_table(rows))


@app.command("report-page")
def report_page(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="HTML file (default: ROOT/report.html).")
    ] = None,
    runtime: RuntimeOpt = None,
    config: ConfigOpt = None,
    root: RootOpt = DEFAULT_ROOT,
) -> None:
    """Write the report page: one self-contained HTML file with charts (fetches nothing)."""
    from report_page import write_report_page

    path = write_report_page(_settings(runtime, config, root), out or root / "report.html")
    console.print(f"report page: {path.resolve().as_uri()}")


@app.command()
def query(
    sql: Annotated[
        str, typer.Argument(help="One SQL statement, e.g. SELECT count(*) FROM access_logs")
    ],
    engine: Annotated[
        QueryEngine,
        typer.Option("--engine", "-e", help="fast: PyIceberg + DuckDB, no JVM; spark: Spark SQL."),
    ] = QueryEngine.FAST,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.TABLE,
    runtime: RuntimeOpt = None,
    config: ConfigOpt = None,
    root: RootOpt = DEFAULT_ROOT,
) -> None:
    """Ad hoc SQL over the lakehouse tables (access_logs, daily_top_ips, ...)."""
    from readers import query as q
    from readers.reading import check_lakehouse

    settings = _settings(runtime, config, root)
    check_lakehouse(settings)
    if engine is QueryEngine.SPARK:
        from spark.sql import run_sql

        result = run_sql(settings, sql)
    else:
        result = q.run_query(settings, sql)
    if fmt is Format.JSON:
        q.write_json(result, sys.stdout)
    elif fmt is Format.CSV:
        q.write_csv(result, sys.stdout)
    else:
        console.print(q.as_rich_table(result))


@app.command()
def demo(
    days: Annotated[int, typer.Option(min=1)] = 3,
    lines: Annotated[int, typer.Option(min=1)] = 200_000,
    start: Annotated[date, typer.Option(parser=_day, help="First day (YYYY-MM-DD).")] = date(
        2024, 10, 7
    ),
    runtime: RuntimeOpt = None,
    config: ConfigOpt = None,
    root: Annotated[Path, typer.Option("--root")] = Path("var/demo"),
) -> None:
    """Generate logs, run the ETL, print the reports: the whole job in one command."""
    from readers import report_view

    settings = _settings(runtime, config, root)
    fetch_jars(jar_sets(settings))
    _generate(settings, None, start, days, lines, 42, 1)
    _run_etl(settings, None)
    # The four reports of the architecture; the others are a command away (and on the page).
    shown = report_view.REPORTS[:4]
    for name in shown:
        console.print(
            report_view.as_rich_table(name, report_view.load(settings, name, None, "all", False))
        )
    from report_page import write_report_page

    page = write_report_page(settings, root / "report.html")
    others = [n for n in report_view.REPORTS if n not in shown]
    console.print(
        f"{len(others)} more reports: lakehouse report NAME (with this demo's --root or "
        f"--config), NAME one of {', '.join(others)}"
    )
    console.print(f"warehouse: {settings.storage.warehouse_uri}  catalog: {settings.catalog.uri}")
    console.print(f"report page: {page.resolve().as_uri()}")


app.command()(doctor)
app.add_typer(stack_app, name="stack", help="The local replica of production (loopback only).")


def main() -> None:
    """Entry point: every error is one line on stderr, not a traceback (`--verbose` adds it).

    Actionable errors exit with code 2, as usage errors do: that includes a service
    (metastore, S3 endpoint, Spark master) going away mid-run, which Spark reports as a JVM
    stack trace.
    """
    try:
        # Not standalone: click's usage errors come here instead of a multi-line usage panel.
        code = app(prog_name="lakehouse", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `lakehouse` or `lakehouse stack` alone: the help
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "lakehouse"
        _fail(f"{exc.format_message()} (see `{command} --help`)", exc.exit_code)
    except typer.TyperException as exc:  # click's other errors, e.g. an unreadable file
        _fail(exc.format_message(), exc.exit_code)
    except typer.Abort:
        _fail("aborted", 1)
    except LakehouseError as exc:
        _fail(str(exc))
    except Exception as exc:
        named = service_failure(exc, _context)
        if named is None:
            raise
        _fail(str(named))
    # Not standalone, typer returns the code of a `typer.Exit` (None when a command returns).
    raise SystemExit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int = 2) -> None:
    if _output.verbose:
        traceback.print_exc()
    # Escaped: messages quote paths and Java text, where `[...]` is not markup.
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise SystemExit(code) from None


if __name__ == "__main__":
    main()
