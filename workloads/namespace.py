"""The namespace every workload lives in, with Pod Security admission set to "restricted".

"restricted" rejects any pod that could run as root, escalate privileges, keep Linux
capabilities or skip seccomp: a hardening slip fails at `pulumi up`, not in an audit.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from workloads import contract
from workloads.objects import PART_OF

POD_SECURITY_LEVEL = "restricted"


def namespace(
    resource_name: str,
    environment: str,
    provider: k8s.Provider | None,
    parent: pulumi.Resource,
    depends_on: pulumi.Input[Sequence[pulumi.Input[pulumi.Resource]]] | None = None,
) -> k8s.core.v1.Namespace:
    """The namespace waits for `depends_on` (e.g. the node groups and CoreDNS); every other
    object is in it, so all wait too, and `pulumi destroy` deletes them before those."""
    pod_security = {
        f"pod-security.kubernetes.io/{mode}": POD_SECURITY_LEVEL
        for mode in ("enforce", "audit", "warn")
    }
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=contract.NAMESPACE,
            labels={
                **pod_security,
                "pod-security.kubernetes.io/enforce-version": "latest",
                "app.kubernetes.io/part-of": PART_OF,
                "lakehouse.io/environment": environment,
            },
        ),
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=depends_on),
    )
