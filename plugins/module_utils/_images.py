# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The worker image: present on the host, or pulled when the pull policy allows it; never pulled in check mode.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._errors import (
    BosunError,
    ImageMissingError,
    ImagePullError,
    WorkerSpecError,
)
from ansible_collections.bosun.compose.plugins.module_utils._worker_spec import PULL_POLICIES, PullPolicy

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi


@dataclasses.dataclass(frozen=True)
class ImageInfo:
    """What preflight found: the image's id (None when check mode would pull it) and repo digests."""

    image: str
    id: str | None
    repo_digests: tuple[str, ...] = ()
    pulled: bool = False
    would_pull: bool = False

    @property
    def summary(self) -> str:
        if self.would_pull:
            return f"image {self.image!r} is not present; it would be pulled before anything stops"
        return f"image {self.image!r} is present ({(self.id or '')[:19]})"


def split_image(image: str) -> tuple[str, str | None]:
    """('repo', 'tag' or 'sha256:...') for the pull endpoint; tag None means Docker's 'latest'."""
    if "@" in image:
        repo, digest = image.split("@", 1)
        return repo, digest
    if image.rfind(":") > image.rfind("/"):
        repo, tag = image.rsplit(":", 1)
        return repo, tag
    return image, None


def image_allowed(image: str, patterns: t.Sequence[str]) -> bool:
    """Whether the image reference matches one of the shell-style patterns (case-sensitive)."""
    return any(fnmatch.fnmatchcase(image, p) for p in patterns)


def _info(raw: t.Mapping[str, t.Any], image: str, pulled: bool) -> ImageInfo:
    return ImageInfo(image, raw.get("Id"), tuple(raw.get("RepoDigests") or ()), pulled)


def preflight_image(api: DockerApi, image: str, pull: PullPolicy = "never", *, check_mode: bool = False) -> ImageInfo:
    """The image's id and repo digests; pulls it first when absent and pull is 'missing' (not in check mode).

    Raises ImageMissingError (ImagePullError when a pull was tried and failed).
    """
    if pull not in PULL_POLICIES:
        raise WorkerSpecError(f"pull {pull!r} must be one of {', '.join(PULL_POLICIES)}", pull=pull)
    raw = api.inspect_image(image)
    if raw is not None:
        return _info(raw, image, False)
    if pull == "never":
        raise ImageMissingError(
            f"worker image {image!r} is not present on the Docker host and pull is 'never': load or pull it "
            "beforehand, or set pull to 'missing'",
            image=image,
            pull=pull,
        )
    if check_mode:
        return ImageInfo(image, None, would_pull=True)
    repo, tag = split_image(image)
    try:
        for event in api.pull_image(repo, tag):
            if isinstance(event, dict) and event.get("error"):
                raise ImagePullError(
                    f"worker image {image!r} is not present and pulling it failed: {event['error']}",
                    image=image,
                    pull=pull,
                )
    except ImagePullError:
        raise
    except BosunError as exc:
        raise ImagePullError(
            f"worker image {image!r} is not present and pulling it failed: {exc.message}", image=image, pull=pull
        ) from exc
    raw = api.inspect_image(image)
    if raw is None:
        raise ImagePullError(
            f"worker image {image!r} was pulled but is still not present on the Docker host", image=image, pull=pull
        )
    return _info(raw, image, True)
