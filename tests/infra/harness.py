"""Run the Pulumi program under mocks (no CLI, no cloud) and record what it registers.

`run_program("dev")` loads the config the CLI would (Pulumi.yaml defaults overlaid with
Pulumi.dev.yaml), executes `infra/__main__.py` against a recording mock monitor and returns
a `Deployment`: every registered resource with its inputs, which inputs were secrets, its
parent, provider and dependencies, plus the stack exports.

The recording monitor also fixes a known SDK race: the stock `MockMonitor` turns resource
references in inputs (e.g. `ManagedNodeGroup(cluster=...)`) back into resource objects on a
worker thread, which fails at random ("attached to a different loop") or hangs. Here they
stay URN strings.
"""

from __future__ import annotations

import hashlib
import json
import runpy
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

REPO = Path(__file__).resolve().parents[2]
MAIN = REPO / "infra" / "__main__.py"
ACCOUNT = "123456789012"
REGION = "us-east-1"
TEST_DB_PASSWORD = "correct-horse-battery-staple-42"

# What the mocked eks.Cluster component returns. Its outputs are None unless a mock supplies
# them, silently (an IRSA trust would say "Federated": null), so the tests assert on the
# values below arriving where they are used.
OIDC_URL = f"https://oidc.eks.{REGION}.amazonaws.com/id/MOCKOIDC"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/MOCKOIDC"
KUBECONFIG = json.dumps({"apiVersion": "v1", "kind": "Config", "clusters": [{"name": "mock"}]})
CLUSTER_SG = "sg-eks-cluster-mock"
AZS = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]


def project_name() -> str:
    return yaml.safe_load((REPO / "Pulumi.yaml").read_text())["name"]


def config_values(stack: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stack's config as the CLI resolves it: declared defaults, then the stack file.

    `overrides` are set on top, by key without the project prefix; None means "not set in
    the stack file" (the declared default applies, or nothing if there is none).
    """
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    name = project["name"]
    defaults = {
        f"{name}:{key}": decl["default"]
        for key, decl in project["config"].items()
        if "default" in decl
    }
    stack_file = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    values = defaults | (stack_file.get("config") or {})
    values[f"{name}:metastoreDbPassword"] = TEST_DB_PASSWORD
    for key, value in (overrides or {}).items():
        full_key = f"{name}:{key}"
        values.pop(full_key, None)
        if value is not None:
            values[full_key] = value
        elif full_key in defaults:
            values[full_key] = defaults[full_key]
    return values


def _as_config_string(value: Any) -> str:
    # The CLI hands every value to the program as a string; structured ones as JSON.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def configure(stack: str, overrides: dict[str, Any] | None = None) -> None:
    """Install mocks and the stack's config in the Pulumi runtime (no program is run)."""
    values = config_values(stack, overrides)
    secret = f"{project_name()}:metastoreDbPassword"
    pulumi.runtime.set_all_config(
        {k: _as_config_string(v) for k, v in values.items()}, secret_keys=[secret]
    )
    # A fresh root Stack per run (set_mocks creates one only when none is installed), and no
    # output tasks left over from an earlier run (set_mocks does not reset them).
    settings.ROOT.set(None)
    settings.SETTINGS.outputs.clear()
    mocks = LakehouseMocks()
    pulumi_mocks.set_mocks(
        mocks,
        project=project_name(),
        stack=stack,
        preview=False,
        monitor=RecordingMonitor(mocks),
    )


@dataclass
class Registered:
    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    provider: str
    providers: dict[str, str]
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    secret_inputs: frozenset[str]
    dependencies: tuple[str, ...]
    id: str


@dataclass
class Deployment:
    stack: str
    resources: list[Registered]
    exports: dict[str, Any] = field(default_factory=dict)
    secret_exports: frozenset[str] = frozenset()

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registered:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {len(found)}"
        return found[0]

    def by_urn(self, urn: str) -> Registered:
        return next(r for r in self.resources if r.urn == urn)

    def by_id(self, id_: str) -> Registered:
        found = [r for r in self.resources if r.custom and r.id == id_]
        assert len(found) == 1, f"expected one resource with id {id_!r}, found {len(found)}"
        return found[0]

    def children(self, parent: Registered, type_: str | None = None) -> list[Registered]:
        return [r for r in self.resources if r.parent == parent.urn and type_ in (None, r.type)]

    def descendants(self, ancestor: Registered) -> Iterator[Registered]:
        for child in self.children(ancestor):
            yield child
            yield from self.descendants(child)

    def depends_on(self, resource: Registered, other: Registered) -> bool:
        """True if `resource` waits for `other` (directly, or `other` is a component's child)."""
        targets = {other.urn} | {r.urn for r in self.descendants(other)}
        return bool(targets & set(resource.dependencies))


class LakehouseMocks(pulumi_mocks.Mocks):
    """Cloud-side answers: echo inputs and add the computed outputs the program reads."""

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        handler = _OUTPUTS.get(args.typ)
        extra = handler(args.name, args.inputs) if handler else {}
        outputs = {**args.inputs, **extra}
        return outputs.pop("__id", f"{args.name}-id"), outputs

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {"names": AZS, "zoneIds": [f"use1-az{i}" for i in range(len(AZS))]}
        if args.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {"userName": "AWS", "password": "ecr-token", "proxyEndpoint": "https://ecr"}
        raise NotImplementedError(f"unmocked invoke {args.token}")


def _bucket(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    bucket = f"{inputs['bucketPrefix']}0123abcd"
    return {"__id": bucket, "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}


def _repository(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    url = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{inputs['name']}"
    return {"repositoryUrl": url, "registryId": ACCOUNT}


def _rds(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    address = f"{name}.c0ffee.{REGION}.rds.amazonaws.com"
    return {"address": address, "endpoint": f"{address}:{int(inputs['port'])}"}


_OUTPUTS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "aws:s3/bucket:Bucket": _bucket,
    "aws:ecr/repository:Repository": _repository,
    "aws:rds/instance:Instance": _rds,
    "aws:iam/role:Role": lambda n, _: {"arn": f"arn:aws:iam::{ACCOUNT}:role/{n}", "name": n},
    "aws:kms/key:Key": lambda n, _: {"arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{n}"},
    # As in AWS, these are identified by their name.
    "aws:rds/subnetGroup:SubnetGroup": lambda n, _: {"__id": n, "name": n},
    "aws:rds/parameterGroup:ParameterGroup": lambda n, _: {"__id": n, "name": n},
    "aws:ec2/eip:Eip": lambda n, _: {"allocationId": f"eipalloc-{n}"},
    "aws:ec2/launchTemplate:LaunchTemplate": lambda n, _: {"latestVersion": 1},
    "docker-build:index:Image": lambda n, _: {
        "digest": "sha256:" + hashlib.sha256(n.encode()).hexdigest()
    },
    "eks:index:Cluster": lambda n, _: {
        "kubeconfigJson": KUBECONFIG,
        "oidcProviderArn": OIDC_ARN,
        "oidcProviderUrl": OIDC_URL,
        "nodeSecurityGroupId": CLUSTER_SG,
        "clusterSecurityGroupId": CLUSTER_SG,
    },
}


def _plain(value: Any, path: str, secrets: set[str]) -> Any:
    """A protobuf value as Python, resource references as URNs, secrets unwrapped (noted)."""
    if isinstance(value, struct_pb2.Struct):
        if rpc._special_sig_key in value.fields:
            sig = value[rpc._special_sig_key]
            if sig == rpc._special_resource_sig:
                return str(value["urn"])
            if sig == rpc._special_secret_sig:
                secrets.add(path.split(".")[0].split("[")[0])
                return _plain(value["value"], path, secrets)
        return {k: _plain(v, f"{path}.{k}" if path else k, secrets) for k, v in value.items()}
    if isinstance(value, struct_pb2.ListValue):
        return [_plain(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
    if value == rpc.UNKNOWN:
        return None
    return value


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi_mocks.Mocks):
        super().__init__(mocks)
        self.registered: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()

        secrets: set[str] = set()
        inputs = _plain(request.object, "", secrets)
        id_, outputs = self.mocks.new_resource(
            pulumi_mocks.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
            )
        )
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, outputs)
        self.registered.append(
            Registered(
                type=request.type,
                name=request.name,
                urn=urn,
                parent=request.parent,
                custom=request.custom,
                provider=request.provider,
                providers=dict(request.providers),
                inputs=inputs,
                outputs=outputs,
                secret_inputs=frozenset(secrets),
                dependencies=tuple(request.dependencies),
                id=id_ or "",
            )
        )
        obj = _sync_await(rpc.serialize_properties(outputs, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj)


def run_program(
    stack: str, overrides: dict[str, Any] | None = None, *, workloads: bool = True
) -> Deployment:
    """Execute infra/__main__.py for `stack` under mocks and return what it registered.

    workloads=False runs it as if workloads/stack.py did not exist (faster, for tests
    about the AWS side only).
    """
    if not workloads:
        saved = sys.modules.get("workloads.stack")
        sys.modules["workloads.stack"] = None  # type: ignore[assignment]
        try:
            return run_program(stack, overrides)
        finally:
            if saved is None:
                del sys.modules["workloads.stack"]
            else:
                sys.modules["workloads.stack"] = saved

    configure(stack, overrides)
    monitor = settings.get_monitor()
    assert isinstance(monitor, RecordingMonitor)
    exports: dict[str, Any] = {}
    secret_exports: set[str] = set()

    async def program() -> None:
        runpy.run_path(str(MAIN), run_name="__main__")
        root = settings.get_root_resource()
        assert root is not None
        for name, value in root.outputs.items():
            output = pulumi.Output.from_input(value)
            exports[name] = await output.future()
            if await output.is_secret():
                secret_exports.add(name)

    _sync_await(run_pulumi_func(program))
    return Deployment(stack, list(monitor.registered), exports, frozenset(secret_exports))


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements(document: str | dict[str, Any]) -> list[dict[str, Any]]:
    """Statements of an IAM policy document, with Action and Resource always lists."""
    doc = json.loads(document) if isinstance(document, str) else document
    return [
        {**s, "Action": as_list(s.get("Action", [])), "Resource": as_list(s.get("Resource", []))}
        for s in as_list(doc["Statement"])
    ]
