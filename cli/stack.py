"""`lakehouse stack up | status | down | logs`: the local replica of production, loopback only.

Mounted by cli/app.py as the `stack` sub-command. Errors are printed as one line
and exit with code 2 here too, so the sub-app behaves the same however it is invoked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from core.config import STACK_CONFIG_ENV, load_stack_settings
from core.errors import LakehouseError
from local_stack.lifecycle import LocalStack

stack_app = typer.Typer(
    help="The local replica of production: PostgreSQL, Hive Metastore, S3Proxy, Spark "
    "standalone + History Server, all on 127.0.0.1.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(soft_wrap=True)
err = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--stack-config",
        "-s",
        help=f"TOML of LocalStackSettings fields (ports, data_dir, workers); ${STACK_CONFIG_ENV}.",
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def _one_line_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LakehouseError as exc:
            err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB" if n else "-"


@stack_app.command()
@_one_line_errors
def up(stack_config: ConfigOpt = None) -> None:
    """Start every service that is not running and wait until each one answers."""
    settings = load_stack_settings(stack_config)
    stack = LocalStack(settings)
    t0 = time.monotonic()
    with console.status("starting the local stack") as status:
        reports = stack.up(notify=lambda msg: status.update(msg))
    table = Table(title=f"local stack ({settings.data_dir})", title_justify="left")
    for col in ("service", "endpoint", "pid", "state"):
        table.add_column(col)
    for r in reports:
        state = f"started in {r.seconds:.1f} s" if r.outcome == "started" else r.outcome
        table.add_row(r.name, r.endpoint, str(r.pid), state)
    console.print(table)
    started = sum(r.outcome == "started" for r in reports)
    console.print(
        f"{started} started, {len(reports) - started} already running; "
        f"ready in {time.monotonic() - t0:.1f} s. Use it with `--runtime local`; "
        "stop with `lakehouse stack down`."
    )


@stack_app.command()
@_one_line_errors
def status(stack_config: ConfigOpt = None) -> None:
    """Each service: PID, ports, up/down, memory (RSS of its process group)."""
    settings = load_stack_settings(stack_config)
    states = LocalStack(settings).status()
    table = Table(title=f"local stack ({settings.data_dir})", title_justify="left")
    for col in ("service", "state", "pid", "ports", "rss", "endpoint"):
        table.add_column(col)
    for s in states:
        state = "[green]up[/]" if s.up else ("[yellow]starting?[/]" if s.pid else "[red]down[/]")
        table.add_row(
            s.name,
            state,
            str(s.pid or "-"),
            ", ".join(map(str, s.ports)),
            _mib(s.rss_bytes),
            s.endpoint,
        )
    console.print(table)
    if not all(s.up for s in states):
        raise typer.Exit(1)


@stack_app.command()
@_one_line_errors
def down(stack_config: ConfigOpt = None) -> None:
    """Stop what `up` started (by PID: SIGTERM, SIGKILL after a timeout). Data is kept."""
    settings = load_stack_settings(stack_config)
    with console.status("stopping the local stack") as status:
        outcomes = LocalStack(settings).down(notify=lambda msg: status.update(msg))
    for name, outcome in outcomes:
        console.print(f"{name}: {outcome}")
    console.print(f"data kept in {settings.data_dir.resolve()}")


@stack_app.command()
@_one_line_errors
def logs(
    service: Annotated[str, typer.Argument(help="e.g. metastore, postgres, spark-worker-1.")],
    lines: Annotated[int, typer.Option("--lines", "-n", min=1)] = 40,
    stack_config: ConfigOpt = None,
) -> None:
    """Print the end of a service's log (logs live in <data_dir>/logs)."""
    settings = load_stack_settings(stack_config)
    svc = LocalStack(settings).service(service)
    path = svc.log_path
    if not path.exists():
        raise LakehouseError(f"no log yet for {service} ({path}): run `lakehouse stack up`")
    text = path.read_text(errors="replace").splitlines()[-lines:]
    console.print(f"[dim]{path}[/]")
    console.out("\n".join(text), highlight=False)
