"""The metastore image's shell scripts, run for real with stand-ins for `java` and `curl`.

The stand-in `java` answers like schematool 3.1.3 did against PostgreSQL 15 on this machine
(messages copied from those runs), and keeps the schema state in a file, so running
`hms init-schema` twice is the same experiment as on a real database.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

IMAGE = Path(__file__).resolve().parents[2] / "workloads/images/hive-metastore"

FAKE_JAVA = r"""#!/bin/sh
# Records the schematool action; answers from the state in $SCHEMA_STATE.
state=$(cat "$SCHEMA_STATE")
action=
for arg in "$@"; do
  case $arg in -info|-initSchema|-upgradeSchema) action=$arg ;; esac
done
echo "$action" >> "$SCHEMA_LOG"
case "$action:$state" in
  -info:present) echo "Metastore schema version:	 3.1.0"; echo "schemaTool completed" ;;
  -info:empty)
    echo 'Failed to get schema version, Cause:ERROR: relation "VERSION" does not exist'
    echo "*** schemaTool failed ***"; exit 1 ;;
  -info:partial)
    echo "Could not find version info in metastore VERSION table."
    echo "*** schemaTool failed ***"; exit 1 ;;
  -info:unreachable)
    echo "Failed to get schema version."
    echo "Underlying cause: org.postgresql.util.PSQLException : Connection to db:5432 refused."
    echo "*** schemaTool failed ***"; exit 1 ;;
  -initSchema:empty) echo present > "$SCHEMA_STATE"; echo "schemaTool completed" ;;
  -initSchema:*) echo 'ERROR: relation "BUCKETING_COLS" already exists'; exit 1 ;;
  *) echo "unexpected: $*" >&2; exit 3 ;;
esac
"""


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


class Database:
    def __init__(self, tmp_path: Path, state: str):
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        executable(bin_dir / "java", FAKE_JAVA)
        self.state = tmp_path / "state"
        self.state.write_text(state + "\n")
        self.log = tmp_path / "log"
        self.log.touch()
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "SCHEMA_STATE": str(self.state),
            "SCHEMA_LOG": str(self.log),
            "METASTORE_HOME": str(tmp_path / "hms"),
        }

    def init_schema(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(IMAGE / "hms"), "init-schema"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    @property
    def actions(self) -> list[str]:
        return self.log.read_text().split()


def test_an_empty_database_gets_the_schema_once_and_a_second_run_does_nothing(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path, "empty")
    first = db.init_schema()
    assert first.returncode == 0, first.stderr
    assert db.actions == ["-info", "-initSchema"]
    second = db.init_schema()
    assert second.returncode == 0, second.stderr
    assert "nothing to do" in second.stdout
    assert db.actions == ["-info", "-initSchema", "-info"]  # no second -initSchema


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("unreachable", "not touching the database"),
        ("partial", "partial schema"),
    ],
)
def test_anything_but_an_empty_database_is_left_untouched(
    tmp_path: Path, state: str, message: str
) -> None:
    db = Database(tmp_path, state)
    result = db.init_schema()
    assert result.returncode != 0
    assert message in result.stderr
    assert db.actions == ["-info"]  # never -initSchema on a database it cannot explain


def test_the_launcher_exports_metastore_home_for_schematool(tmp_path: Path) -> None:
    db = Database(tmp_path, "present")
    executable(
        tmp_path / "bin" / "java",
        '#!/bin/sh\nwhile [ "$1" != -cp ]; do shift; done\necho "home=$METASTORE_HOME cp=$2"\n',
    )
    result = db.init_schema()
    home = tmp_path / "hms"
    assert f"home={home} " in result.stdout
    assert f"cp=/etc/hive-metastore:{home}/conf:{home}/lib/*" in result.stdout


def test_unknown_commands_are_refused() -> None:
    result = subprocess.run(
        ["sh", str(IMAGE / "hms"), "start"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "usage" in result.stderr


# --- fetch-maven.sh -----------------------------------------------------------------------

JAR_BYTES = b"not really a jar\n"
FAKE_CURL = r"""#!/bin/sh
# Writes fixed bytes to --output and records the URL.
while [ $# -gt 0 ]; do
  case $1 in --output) out=$2; shift 2 ;; http*) url=$1; shift ;; *) shift ;; esac
done
echo "$url" >> "$CURL_LOG"
printf 'not really a jar\n' > "$out"
"""


def fetch(
    tmp_path: Path, coordinate: str, sha1: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    executable(bin_dir / "curl", FAKE_CURL)
    log = tmp_path / "urls"
    log.touch()
    result = subprocess.run(
        ["sh", str(IMAGE / "fetch-maven.sh"), coordinate, sha1, str(tmp_path / "lib")],
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CURL_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result, log.read_text().split()


def test_fetch_builds_maven_central_urls_and_keeps_a_matching_file(tmp_path: Path) -> None:
    good = hashlib.sha1(JAR_BYTES).hexdigest()
    result, urls = fetch(tmp_path, "org.apache.hadoop:hadoop-aws:3.3.6", good)
    assert result.returncode == 0, result.stderr
    assert urls == [
        "https://repo1.maven.org/maven2/org/apache/hadoop/hadoop-aws/3.3.6/hadoop-aws-3.3.6.jar"
    ]
    assert (tmp_path / "lib/hadoop-aws-3.3.6.jar").read_bytes() == JAR_BYTES
    result, urls = fetch(
        tmp_path, "org.apache.hive:hive-standalone-metastore:3.1.3:tar.gz:bin", good
    )
    assert result.returncode == 0, result.stderr
    assert urls[-1].endswith(
        "org/apache/hive/hive-standalone-metastore/3.1.3/hive-standalone-metastore-3.1.3-bin.tar.gz"
    )


def test_fetch_deletes_a_download_whose_sha1_differs(tmp_path: Path) -> None:
    result, _ = fetch(tmp_path, "commons-io:commons-io:2.8.0", "0" * 40)
    assert result.returncode == 1
    assert "SHA-1 mismatch" in result.stderr
    assert not (tmp_path / "lib/commons-io-2.8.0.jar").exists()


def test_fetch_refuses_a_malformed_coordinate(tmp_path: Path) -> None:
    result, urls = fetch(tmp_path, "commons-io:2.8.0", "0" * 40)
    assert result.returncode == 2
    assert urls == []
