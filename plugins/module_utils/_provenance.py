# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Provenance: what a run ran against, kept in its record and report so a restore can pick the matching version.

From the plan alone (pure, no Engine call): for each container of the stop-set its image reference and image
id and Compose's config-hash label; the project's compose files and working directory (Compose's labels on
the stack's up containers); the worker's (and after-phase's) image and pinned image id; and the plan hash, a
sha256 of the canonical JSON of what the plan does, the same for two runs of the same plan on the same
containers.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._model import (
    COMPOSE_CONFIG_FILES,
    COMPOSE_CONFIG_HASH,
    COMPOSE_WORKING_DIR,
    ContainerRecord,
)

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._planner import Plan
    from ansible_collections.bosun.compose.plugins.module_utils._worker_spec import WorkerSpec

# Keys of Plan.to_dict() left out of the plan hash: they differ between runs of the same plan (the run id is
# also replaced inside every value), or they are the checks made at planning time, not what the run does.
UNHASHED_KEYS = ("run_id", "created_at", "preflight", "ok")
RUN_ID_PLACEHOLDER = "<run_id>"


@dataclasses.dataclass(frozen=True)
class ContainerProvenance:
    """One container of the stop-set as the run found it."""

    name: str
    service: str | None
    # The reference the container was created from, as the Engine lists it (an image id when the tag has
    # since moved to another image).
    image: str
    image_id: str
    config_hash: str | None

    @classmethod
    def of(cls, c: ContainerRecord) -> ContainerProvenance:
        return cls(c.name, c.service, c.image, c.image_id, c.labels.get(COMPOSE_CONFIG_HASH) or None)


@dataclasses.dataclass(frozen=True)
class ImageProvenance:
    """A one-shot container's image: the reference and the id the run pinned (None when it was not found)."""

    image: str
    image_id: str | None

    @classmethod
    def of(cls, spec: WorkerSpec) -> ImageProvenance:
        return cls(spec.image, spec.image_id)


@dataclasses.dataclass(frozen=True)
class Provenance:
    plan_hash: str
    config_files: tuple[str, ...]
    working_dir: str | None
    worker: ImageProvenance
    after: ImageProvenance | None
    containers: tuple[ContainerProvenance, ...]

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "plan_hash": self.plan_hash,
            "project": {"config_files": list(self.config_files), "working_dir": self.working_dir},
            "worker": dataclasses.asdict(self.worker),
            "after": dataclasses.asdict(self.after) if self.after is not None else None,
            "containers": [dataclasses.asdict(c) for c in self.containers],
        }


def _without_run_id(value: t.Any, run_id: str) -> t.Any:
    """``value`` with the run id (and its first 8 characters, which name the worker) replaced in every string."""
    if isinstance(value, str):
        return value.replace(run_id, RUN_ID_PLACEHOLDER).replace(run_id[:8], RUN_ID_PLACEHOLDER)
    if isinstance(value, dict):
        return {k: _without_run_id(v, run_id) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_run_id(v, run_id) for v in value]
    return value


def plan_hash(plan: Plan) -> str:
    """``sha256:<hex>`` of the canonical JSON (sorted keys, no blanks) of the plan without what differs per run."""
    d = {k: v for k, v in plan.to_dict().items() if k not in UNHASHED_KEYS}
    canonical = json.dumps(_without_run_id(d, plan.run_id), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _most_common(values: t.Iterable[str]) -> str | None:
    """The value most containers carry (the first seen on a tie), ignoring empty ones; None without any."""
    counts = collections.Counter(v for v in values if v)
    return counts.most_common(1)[0][0] if counts else None


def plan_provenance(plan: Plan) -> Provenance:
    """The provenance of a run of ``plan``: what it stops, from where the project was deployed, what it runs."""
    up = [*plan.stop_set, *plan.stays_up]
    files = _most_common(c.labels.get(COMPOSE_CONFIG_FILES, "") for c in up) or ""
    return Provenance(
        plan_hash=plan_hash(plan),
        config_files=tuple(f for f in files.split(",") if f),
        working_dir=_most_common(c.labels.get(COMPOSE_WORKING_DIR, "") for c in up),
        worker=ImageProvenance.of(plan.worker),
        after=ImageProvenance.of(plan.after) if plan.after is not None else None,
        containers=tuple(ContainerProvenance.of(c) for c in plan.stop_set),
    )
