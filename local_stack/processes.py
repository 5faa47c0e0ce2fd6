"""Process plumbing for the local stack: PID records, port checks, readiness, stopping.

Rules this module enforces (the stack shares the machine with other work):
- a process is ours only if its PID record says so *and* the PID's start time matches
  the recorded one (a recycled PID is never signalled);
- processes are stopped by PID / process group only, never by name;
- every service runs in its own session (process group), so Ctrl-C in the terminal that
  ran `stack up` does not reach it, and `down` can also reach the children it spawned
  (Spark executors, PostgreSQL backends).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from core.errors import EnvironmentProblem, ServiceUnavailable

# psutil's create_time is derived from clock ticks since boot; equal processes agree to
# well under this.
_START_TIME_TOLERANCE_S = 1.0


@dataclass(frozen=True)
class ProcessRecord:
    """What `up` wrote about a process it started (JSON next to the service's data)."""

    service: str
    pid: int
    create_time: float
    command: list[str]
    log: str

    @classmethod
    def read(cls, path: Path) -> ProcessRecord | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (FileNotFoundError, json.JSONDecodeError, TypeError):
            return None

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)

    def process(self) -> psutil.Process | None:
        """The live process this record describes, or None (gone, or PID reused)."""
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.create_time) > _START_TIME_TOLERANCE_S:
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None


def spawn(
    service: str,
    command: Sequence[str],
    *,
    log: Path,
    record: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> ProcessRecord:
    """Start `command` detached in a new session; log to `log`; write its PID record."""
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ)
    full_env.update(env or {})
    with log.open("ab") as out:
        out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {service}\n".encode())
        out.flush()
        kwargs: dict[str, object] = {}
        if user is not None:
            # subprocess drops privileges in the child (setgid/setgroups/setuid): the PID we
            # get is the server itself, unlike `runuser`, which stays as a parent process.
            kwargs |= {"user": user, "group": user, "extra_groups": []}
        proc = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
            **kwargs,  # type: ignore[arg-type]
        )
    try:
        create_time = psutil.Process(proc.pid).create_time()
    except psutil.NoSuchProcess:
        create_time = time.time()
    rec = ProcessRecord(service, proc.pid, create_time, list(command), str(log))
    rec.write(record)
    return rec


def port_is_free(host: str, port: int) -> bool:
    """True if nothing listens on host:port (a wildcard listener counts as taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: a socket in TIME_WAIT from a previous run must not count as taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def listener_of(port: int) -> str:
    """'pid 123 (java)' for whoever listens on `port`, if the OS tells us."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                if conn.pid is None:
                    return "another process"
                try:
                    return f"pid {conn.pid} ({psutil.Process(conn.pid).name()})"
                except psutil.Error:
                    return f"pid {conn.pid}"
    except psutil.AccessDenied:
        pass
    return "another process"


def require_free_port(host: str, port: int, setting: str, service: str) -> None:
    """One actionable line when a port the stack needs is taken by something else."""
    if not port_is_free(host, port):
        raise EnvironmentProblem(
            f"port {port} on {host} ({service}) is already in use by {listener_of(port)}: "
            f"stop that process or set a free port in LocalStackSettings.{setting} "
            "(stack config file, $LAKEHOUSE_STACK_CONFIG)"
        )


def tcp_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def log_tail(path: Path, lines: int = 5) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 8192))
            text = fh.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    return " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())


def wait_until(
    check: Callable[[], bool],
    *,
    service: str,
    timeout: float,
    record: ProcessRecord | None = None,
    interval: float = 0.25,
) -> float:
    """Poll `check` until it is true; seconds waited. Fail fast if the process died."""
    started = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - started
        except Exception:
            pass
        if record is not None and record.process() is None:
            raise ServiceUnavailable(
                f"{service} exited during start-up; see {record.log} "
                f"(last lines: {log_tail(Path(record.log)) or 'none'})"
            )
        if time.monotonic() - started > timeout:
            where = f"; see {record.log}" if record else ""
            raise ServiceUnavailable(
                f"{service} did not answer within {timeout:.0f} s{where} "
                "(a slow machine: run `lakehouse stack up` again; it keeps what already runs)"
            )
        time.sleep(interval)


def stop(
    record: ProcessRecord,
    *,
    sig: signal.Signals = signal.SIGTERM,
    signal_group: bool = True,
    timeout: float = 20.0,
) -> str:
    """Stop one recorded process and its process group: `sig`, then SIGKILL on timeout.

    `signal_group=False` sends the first signal to the leader only (PostgreSQL's postmaster
    shuts its backends down itself); the wait and the SIGKILL still cover the whole group.
    Returns 'stopped', 'killed' or 'not running'. Only the recorded PID (checked against
    its start time) and the session it leads are ever signalled.
    """
    proc = record.process()
    if proc is None:
        return "not running"
    # The service leads its own session (start_new_session), so its PGID is its PID; the
    # group holds the children it spawned. Never signal a group we do not lead.
    group = _leads_group(record.pid)
    members = _group_members(record.pid) if group else [proc]

    def send(s: signal.Signals, to_group: bool) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if to_group:
                os.killpg(record.pid, s)
            else:
                os.kill(record.pid, s)

    send(sig, group and signal_group)
    _, alive = psutil.wait_procs(members, timeout=timeout)
    if not alive:
        return "stopped"
    send(signal.SIGKILL, group)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=5)
    return "killed"


def send_signal(record: ProcessRecord, sig: signal.Signals) -> bool:
    """Send `sig` to the recorded process only (not its group); False if it is gone."""
    if record.process() is None:
        return False
    try:
        os.kill(record.pid, sig)
    except ProcessLookupError:
        return False
    return True


def _leads_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for p in psutil.process_iter():
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(p.pid) == pgid:
                members.append(p)
    return members


def group_pids(record: ProcessRecord) -> list[int]:
    """PIDs of the recorded process and everything in the session it leads."""
    if record.process() is None:
        return []
    if not _leads_group(record.pid):
        return [record.pid]
    return [p.pid for p in _group_members(record.pid)]


def rss_bytes(record: ProcessRecord) -> int:
    """Resident memory of the process and its group (PostgreSQL forks per backend)."""
    total = 0
    for pid in group_pids(record):
        with contextlib.suppress(psutil.Error):
            total += psutil.Process(pid).memory_info().rss
    return total
