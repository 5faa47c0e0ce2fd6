"""Security contexts every pod and container shares (Pod Security Standard "restricted").

The namespace enforces "restricted", so a pod without these is rejected at admission; the
contexts are still set on every pod so that the objects say what they need on their own.
"""

from __future__ import annotations

import pulumi_kubernetes as k8s


def pod_security_context(uid: int) -> k8s.core.v1.PodSecurityContextArgs:
    """Non-root with an explicit UID/GID (the image's user), default seccomp profile."""
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        # Group-owns mounted volumes (emptyDirs, the IRSA web-identity token) for the user.
        fs_group=uid,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security_context(*, read_only_root: bool = True) -> k8s.core.v1.SecurityContextArgs:
    """No privilege escalation, no capabilities; writable paths are explicit emptyDirs."""
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        read_only_root_filesystem=read_only_root,
        run_as_non_root=True,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )
