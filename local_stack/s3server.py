"""The S3 endpoint: S3Proxy 4.1.0, `filesystem-nio2` provider, data under the data dir.

S3Proxy (not moto) because its objects survive a restart (docs/decisions/0007). Its Jetty binds
exactly the host of `s3proxy.endpoint`, so loopback is a setting here. 4.1.0 rather than
3.3.0: 3.3.0 answers 500 when S3A deletes a directory marker whose directory still holds
other markers, which fails every Spark job commit on s3a:// (the `_temporary` clean-up).
`filesystem-nio2` keeps object metadata in extended attributes (ext4/xfs/btrfs have them).
"""

from __future__ import annotations

import http.client
from pathlib import Path
from typing import ClassVar

from core.errors import ServiceUnavailable
from local_stack.service import SMALL_JVM_FLAGS, ManagedService, PortSpec


class S3Proxy(ManagedService):
    name = "s3proxy"
    ready_timeout: ClassVar[float] = 60.0

    @property
    def blob_root(self) -> Path:
        return self.layout.root / "s3"

    @property
    def config_path(self) -> Path:
        return self.layout.root / "conf" / "s3proxy.properties"

    def ports(self) -> list[PortSpec]:
        return [PortSpec(self.stack.s3_port, "s3_port")]

    def endpoint(self) -> str:
        return f"http://{self.host}:{self.stack.s3_port}"

    def buckets(self) -> list[str]:
        s = self.stack
        return [s.input_bucket, s.processed_bucket, s.warehouse_bucket]

    def render_config(self) -> str:
        s = self.stack
        props = {
            "s3proxy.endpoint": self.endpoint(),
            # Clients sign with SigV4 (AWS SDK v2, pyarrow) or V2 (old tools): accept both.
            "s3proxy.authorization": "aws-v2-or-v4",
            "s3proxy.identity": s.s3_access_key,
            "s3proxy.credential": s.s3_secret_key,
            "jclouds.provider": "filesystem-nio2",
            "jclouds.identity": "local",
            "jclouds.credential": "local",
            "jclouds.filesystem.basedir": str(self.blob_root),
        }
        return "".join(f"{k}={v}\n" for k, v in props.items())

    def before_launch(self) -> None:
        self.blob_root.mkdir(parents=True, exist_ok=True)
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.render_config())
        self.config_path.chmod(0o600)  # holds the (local-only) credentials

    def command(self) -> list[str]:
        return [
            self.tools.java,
            "-Xmx256m",
            *SMALL_JVM_FLAGS,
            "-jar",
            str(self.tools.s3proxy_jar),
            "--properties",
            str(self.config_path),
        ]

    def answers(self) -> bool:
        # Any HTTP answer (403 for an unsigned request) means Jetty and S3Proxy are up.
        conn = http.client.HTTPConnection(self.host, self.stack.s3_port, timeout=2)
        try:
            conn.request("GET", "/")
            return conn.getresponse().status in (200, 403)
        except OSError:
            return False
        finally:
            conn.close()

    def client(self):
        from pyarrow import fs

        s = self.stack
        return fs.S3FileSystem(
            access_key=s.s3_access_key,
            secret_key=s.s3_secret_key,
            endpoint_override=self.endpoint(),
            scheme="http",
            region="us-east-1",
            force_virtual_addressing=False,
            allow_bucket_creation=True,
            connect_timeout=5,
            request_timeout=30,
        )

    def after_ready(self) -> None:
        from pyarrow import fs

        client = self.client()
        for bucket in self.buckets():
            info = client.get_file_info(bucket)
            if info.type == fs.FileType.Directory:
                continue
            try:
                client.create_dir(bucket)
            except OSError as exc:
                raise ServiceUnavailable(
                    f"cannot create bucket {bucket} on {self.endpoint()}: {exc} "
                    f"(see {self.log_path})"
                ) from None
