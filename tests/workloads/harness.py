"""Run `workloads.stack.Workloads` under Pulumi mocks and record what it registers.

No CLI, no cluster: a mock monitor answers every registration with the inputs it got,
naming auto-named objects (ConfigMaps, Secrets) the way Pulumi would, so references to
them resolve. Each `Registered` keeps the inputs exactly as pulumi-kubernetes sends them
to the engine (camelCase, numbers as floats), which secret fields were secret, and the
provider the object was sent to.

Resource references stay URN strings here: the stock MockMonitor turns them back into
resource objects on a worker thread, which fails at random (docs/decisions/0009).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

PROJECT = "nginx-lakehouse"
STACK = "test"


@dataclass
class Registered:
    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    provider: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    secret_fields: frozenset[str]  # top-level input keys that arrived as secrets
    dependencies: tuple[str, ...]

    @property
    def kind(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    @property
    def k8s_name(self) -> str:
        return self.outputs["metadata"]["name"]

    def manifest(self) -> dict[str, Any]:
        """The object as the API server would receive it (integral numbers as ints)."""
        body = {k: v for k, v in self.outputs.items() if not k.startswith("__")}
        return _ints(body)


@dataclass
class Deployment:
    resources: list[Registered]
    warnings: list[str]

    def kubernetes_objects(self) -> list[Registered]:
        return [r for r in self.resources if r.type.startswith("kubernetes:") and r.custom]

    def of_kind(self, kind: str) -> list[Registered]:
        return [r for r in self.kubernetes_objects() if r.kind == kind]

    def named(self, kind: str, name: str) -> Registered:
        found = [r for r in self.of_kind(kind) if r.k8s_name == name]
        assert len(found) == 1, f"expected one {kind} {name!r}, found {len(found)}"
        return found[0]

    def by_urn(self, urn: str) -> Registered:
        return next(r for r in self.resources if r.urn == urn)

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


class K8sMocks(pulumi_mocks.Mocks):
    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        metadata = outputs.get("metadata")
        is_object = args.typ.startswith("kubernetes:") and isinstance(metadata, dict)
        if is_object and not metadata.get("name"):
            # Pulumi auto-naming: the resource name plus a random suffix.
            suffix = hashlib.sha256(args.name.encode()).hexdigest()[:8]
            outputs["metadata"] = {**metadata, "name": f"{args.name}-{suffix}"}
        return f"{args.name}-id", outputs

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        raise NotImplementedError(f"unexpected invoke {args.token}")


def _plain(value: Any, top: str, secrets: set[str]) -> Any:
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
                inputs=inputs,
                outputs=outputs,
                secret_fields=frozenset(secrets),
                dependencies=tuple(request.dependencies),
            )
        )
        obj = _sync_await(rpc.serialize_properties(outputs, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj)


def deploy(program: Callable[[], None]) -> Deployment:
    """Run `program` (which declares resources) under mocks; return what it registered."""
    settings.ROOT.set(None)  # a fresh root Stack per run
    mocks = K8sMocks()
    monitor = RecordingMonitor(mocks)
    pulumi_mocks.set_mocks(mocks, project=PROJECT, stack=STACK, preview=False, monitor=monitor)
    # A run that failed leaves its pending RPCs and outputs behind; the next run would
    # re-raise the old failure (pulumi.runtime.test clears the same two).
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    warnings: list[str] = []
    original_warn = pulumi.log.warn

    def record_warning(msg: str, *args: Any, **kwargs: Any) -> None:
        warnings.append(msg)

    pulumi.log.warn = record_warning  # type: ignore[assignment]
    try:

        async def run() -> None:
            program()

        _sync_await(run_pulumi_func(run))
    except Exception as exc:
        _silence_leftovers(type(exc))
        raise
    finally:
        pulumi.log.warn = original_warn  # type: ignore[assignment]
    return Deployment(list(monitor.registered), warnings)


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
