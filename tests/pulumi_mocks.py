"""Run a Pulumi program under mocks (no CLI, no cloud) and record what it registers.

One harness for tests/infra (the whole program, `infra/__main__.py`, per stack) and
tests/workloads (the `Workloads` component alone). Both get a `Deployment`: every
registered resource with its inputs, which inputs were secrets, its parent, provider and
dependencies, plus the stack exports and the warnings the program logged.

Public SDK API does the work wherever it can: `pulumi.runtime.reset_options` (a fresh root
stack per run), `set_mocks` with a `Mocks` subclass (the cloud's answers), `set_all_config`,
`pulumi.runtime.test` (runs the program and waits for its outputs) and a `logging.Logger`
(the mock engine's warnings).

One private piece remains, `RecordingMonitor`, a subclass of the SDK's `MockMonitor` handed
to `set_mocks(monitor=...)`. `MockResourceArgs` carries no parent, no dependencies and no
secret flags, and the tests assert on all three (what waits for the node groups, which
inputs are secret). Its `RegisterResource` also keeps resource references in inputs as URN
strings: the stock monitor turns them back into resource objects on a worker thread, which
fails at random ("attached to a different loop") or hangs. It reads the request with the
SDK's wire-format constants (`rpc._special_*`), which have no public name.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import runpy
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import resource_pb2

REPO = Path(__file__).resolve().parents[1]
MAIN = REPO / "infra" / "__main__.py"
PROJECT = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["name"]
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
# The zones of us-east-1 and their ids, as AWS lists them for an account. use1-az3 is the
# one EKS refuses control-plane subnets in; its name differs per account (here us-east-1c),
# its id does not.
AZS = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"]
AZ_IDS = ["use1-az1", "use1-az2", "use1-az3", "use1-az4", "use1-az5", "use1-az6"]
CREATOR_ARN = f"arn:aws:iam::{ACCOUNT}:user/deployer"


# --- what was registered ----------------------------------------------------------------


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
    secret_inputs: frozenset[str]  # top-level input keys that arrived as secrets
    dependencies: tuple[str, ...]
    id: str
    protect: bool
    retain_on_delete: bool

    @property
    def kind(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    @property
    def k8s_name(self) -> str:
        return self.outputs["metadata"]["name"]

    def manifest(self) -> dict[str, Any]:
        """A Kubernetes object as the API server would receive it (integral numbers as ints)."""
        body = {k: v for k, v in self.outputs.items() if not k.startswith("__")}
        return _ints(body)


@dataclass
class Deployment:
    stack: str
    resources: list[Registered]
    exports: dict[str, Any] = field(default_factory=dict)
    secret_exports: frozenset[str] = frozenset()
    warnings: list[str] = field(default_factory=list)

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

    # Kubernetes objects

    def kubernetes_objects(self) -> list[Registered]:
        return [r for r in self.resources if r.type.startswith("kubernetes:") and r.custom]

    def of_kind(self, kind: str) -> list[Registered]:
        return [r for r in self.kubernetes_objects() if r.kind == kind]

    def named(self, kind: str, name: str) -> Registered:
        found = [r for r in self.of_kind(kind) if r.k8s_name == name]
        assert len(found) == 1, f"expected one {kind} {name!r}, found {len(found)}"
        return found[0]

    def pod_specs(self) -> Iterator[tuple[Registered, dict[str, Any]]]:
        """(object, pod spec) for every object that runs pods."""
        for obj in self.kubernetes_objects():
            spec = obj.manifest().get("spec", {})
            if obj.kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
                yield obj, spec["template"]["spec"]
            elif obj.kind == "CronJob":
                yield obj, spec["jobTemplate"]["spec"]["template"]["spec"]


def _ints(value: Any) -> Any:
    # The engine gets JSON numbers; the mock sees Python floats. 2.0 is the integer 2.
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements(document: str | dict[str, Any]) -> list[dict[str, Any]]:
    """Statements of an IAM policy document, with Action and Resource always lists."""
    doc = json.loads(document) if isinstance(document, str) else document
    return [
        {**s, "Action": as_list(s.get("Action", [])), "Resource": as_list(s.get("Resource", []))}
        for s in as_list(doc["Statement"])
    ]


# --- the cloud's answers (public Mocks API) ---------------------------------------------


def _bucket(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    bucket = f"{inputs['bucketPrefix']}0123abcd"
    return {"__id": bucket, "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}


def _repository(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    url = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{inputs['name']}"
    return {"repositoryUrl": url, "registryId": ACCOUNT}


def _rds(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    address = f"{name}.c0ffee.{REGION}.rds.amazonaws.com"
    return {"address": address, "endpoint": f"{address}:{int(inputs['port'])}"}


# Computed outputs the program reads, by resource type; every other output echoes an input.
OUTPUTS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
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
    "random:index/randomId:RandomId": lambda n, inputs: {
        "hex": hashlib.sha256(n.encode()).hexdigest()[: 2 * int(inputs["byteLength"])]
    },
    "eks:index:Cluster": lambda n, _: {
        "kubeconfigJson": KUBECONFIG,
        "oidcProviderArn": OIDC_ARN,
        "oidcProviderUrl": OIDC_URL,
        "nodeSecurityGroupId": CLUSTER_SG,
        "clusterSecurityGroupId": CLUSTER_SG,
    },
}


def _availability_zones(args: Mapping[str, Any]) -> dict[str, Any]:
    # AWS applies exclude_zone_ids / exclude_names server-side; so does this answer.
    excluded_ids = set(args.get("excludeZoneIds") or [])
    excluded_names = set(args.get("excludeNames") or [])
    zones = [
        (name, zone_id)
        for name, zone_id in zip(AZS, AZ_IDS, strict=True)
        if zone_id not in excluded_ids and name not in excluded_names
    ]
    return {"names": [n for n, _ in zones], "zoneIds": [z for _, z in zones]}


INVOKES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda _: {
        "userName": "AWS",
        "password": "ecr-token",
        "proxyEndpoint": "https://ecr",
    },
    "aws:index/getCallerIdentity:getCallerIdentity": lambda _: {
        "accountId": ACCOUNT,
        "arn": CREATOR_ARN,
        "userId": "AIDAMOCK",
        "id": ACCOUNT,
    },
    "aws:iam/getSessionContext:getSessionContext": lambda args: {
        "arn": args["arn"],
        "issuerArn": args["arn"],
        "issuerId": "",
        "issuerName": "",
        "sessionName": "",
    },
}


class CloudMocks(pulumi.runtime.Mocks):
    """Echo inputs, add the computed outputs above, name auto-named Kubernetes objects."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        handler = OUTPUTS.get(args.typ)
        outputs = {**args.inputs, **(handler(args.name, args.inputs) if handler else {})}
        metadata = outputs.get("metadata")
        if isinstance(metadata, dict) and not metadata.get("name"):
            # Pulumi auto-naming of a Kubernetes object: the resource name plus a suffix.
            suffix = hashlib.sha256(args.name.encode()).hexdigest()[:8]
            outputs["metadata"] = {**metadata, "name": f"{args.name}-{suffix}"}
        return outputs.pop("__id", f"{args.name}-id"), outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        handler = INVOKES.get(args.token)
        if handler is None:
            raise NotImplementedError(f"unmocked invoke {args.token}")
        return handler(args.args)


# --- the private piece (see the module docstring) ---------------------------------------


def _plain(value: Any, top: str, secrets: set[str]) -> Any:
    """A protobuf value as Python, resource references as URNs, secrets unwrapped (noted)."""
    if isinstance(value, struct_pb2.Struct):
        if rpc._special_sig_key in value.fields:
            sig = value[rpc._special_sig_key]
            if sig == rpc._special_resource_sig:
                return str(value["urn"])
            if sig == rpc._special_secret_sig:
                secrets.add(top)
                return _plain(value["value"], top, secrets)
        return {k: _plain(v, top or k, secrets) for k, v in value.items()}
    if isinstance(value, struct_pb2.ListValue):
        return [_plain(v, top, secrets) for v in value]
    if value == rpc.UNKNOWN:
        return None
    return value


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.registered: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        secrets: set[str] = set()
        inputs = _plain(request.object, "", secrets)
        id_, outputs = self.mocks.new_resource(
            pulumi.runtime.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
            )
        )
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, outputs)
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
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
            )
        )
        # Outputs are plain values (URNs, not resources): serialising them needs no loop.
        obj = struct_pb2.Struct()
        obj.update(_wire(outputs))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj)


def _wire(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


# --- running a program ------------------------------------------------------------------


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def deploy(program: Callable[[], None], *, stack: str = "test") -> Deployment:
    """Run `program` (which declares resources) under mocks; return what it registered."""
    pulumi.runtime.reset_options(project=PROJECT, stack=stack, preview=False)
    monitor = RecordingMonitor(CloudMocks())
    warnings = _Warnings()
    logger = logging.getLogger(f"{__name__}.{stack}")
    logger.propagate = False
    logger.handlers = [warnings]
    pulumi.runtime.set_mocks(
        monitor.mocks, project=PROJECT, stack=stack, preview=False, logger=logger, monitor=monitor
    )
    exports: dict[str, Any] = {}
    secret_exports: set[str] = set()

    async def collect_exports() -> None:
        root = pulumi.runtime.get_root_resource()
        assert root is not None
        for name, value in root.outputs.items():
            output = pulumi.Output.from_input(value)
            exports[name] = await output.future()
            if await output.is_secret():
                secret_exports.add(name)

    @pulumi.runtime.test
    def execute() -> Any:
        program()
        return collect_exports()

    try:
        execute()
    except Exception as exc:
        _silence_leftovers(type(exc))
        raise
    return Deployment(
        stack, list(monitor.registered), exports, frozenset(secret_exports), warnings.messages
    )


def _silence_leftovers(expected: type[BaseException]) -> None:
    """Drop "exception was never retrieved" reports of an error the test already got.

    A failed apply leaves every dependent Output's future holding the error. When they are
    garbage-collected, asyncio formats each traceback, and on Python 3.11 that calls
    ast.parse; if the collection happens inside pytest's own ast.parse (rewriting a module
    imported later), CPython fails with "SystemError: AST constructor recursion depth
    mismatch". The error itself was raised to the test, which asserted on it.
    """
    loop = asyncio.get_event_loop()
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if "never retrieved" in context.get("message", "") and isinstance(exc, expected):
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


# --- the whole program, per stack -------------------------------------------------------


def config_values(stack: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The stack's config as the CLI resolves it: declared defaults, then the stack file.

    `overrides` are set on top, by key without the project prefix; None means "not set in
    the stack file" (the declared default applies, or nothing if there is none).
    """
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    defaults = {
        f"{PROJECT}:{key}": decl["default"]
        for key, decl in project["config"].items()
        if "default" in decl
    }
    stack_file = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    values = defaults | (stack_file.get("config") or {})
    values[f"{PROJECT}:metastoreDbPassword"] = TEST_DB_PASSWORD
    for key, value in (overrides or {}).items():
        full_key = f"{PROJECT}:{key}"
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


def configure(stack: str, overrides: Mapping[str, Any] | None = None) -> None:
    """Install mocks and the stack's config in the Pulumi runtime (no program is run)."""
    values = config_values(stack, overrides)
    pulumi.runtime.set_all_config(
        {k: _as_config_string(v) for k, v in values.items()},
        secret_keys=[f"{PROJECT}:metastoreDbPassword"],
    )
    pulumi.runtime.reset_options(project=PROJECT, stack=stack, preview=False)
    pulumi.runtime.set_mocks(CloudMocks(), project=PROJECT, stack=stack, preview=False)


def _no_workloads() -> types.ModuleType:
    """A workloads.stack whose component declares nothing: the AWS side alone, faster."""

    class Workloads(pulumi.ComponentResource):
        def __init__(self, name: str, args: Any, opts: Any = None):
            super().__init__("test:workloads:Nothing", name, None, opts)

    module = types.ModuleType("workloads.stack")
    module.Workloads = Workloads  # type: ignore[attr-defined]
    module.WorkloadsArgs = lambda **kwargs: kwargs  # type: ignore[attr-defined]
    return module


def run_program(
    stack: str, overrides: Mapping[str, Any] | None = None, *, workloads: bool = True
) -> Deployment:
    """Execute infra/__main__.py for `stack` under mocks and return what it registered.

    workloads=False replaces the Kubernetes workloads by a component that declares nothing
    (faster, for tests about the AWS side only).
    """
    values = config_values(stack, overrides)
    pulumi.runtime.set_all_config(
        {k: _as_config_string(v) for k, v in values.items()},
        secret_keys=[f"{PROJECT}:metastoreDbPassword"],
    )
    saved = sys.modules.get("workloads.stack")
    if not workloads:
        sys.modules["workloads.stack"] = _no_workloads()
    try:
        return deploy(lambda: runpy.run_path(str(MAIN), run_name="__main__"), stack=stack)
    finally:
        if not workloads:
            if saved is None:
                del sys.modules["workloads.stack"]
            else:
                sys.modules["workloads.stack"] = saved
