# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Compose CLI on the Docker host: recreate exactly the containers a cleanup job deleted while a stack was down.

A ``docker container prune`` (or ``docker system prune``) during a job deletes the stopped containers of the
stack. Compose can create them again from the project's files, which its containers name in their labels
(``com.docker.compose.project.config_files``, ``.working_dir``, ``.environment_file``): ``docker compose up
--detach --no-deps --no-recreate --no-build --pull never <service>...`` creates and starts exactly the deleted
services, never any other, and never replaces a container that exists. It runs only when the Engine is local (the
files are on this host), the files are readable and ``docker compose config`` resolves; otherwise the caller
reports the exact command that brings them back. Commands run through a CommandRunner that the Ansible edge
gives (``AnsibleModule.run_command``, see _module.command_runner()); without one, only the command is reported.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import shutil
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._model import (
    COMPOSE_CONFIG_FILES,
    COMPOSE_WORKING_DIR,
    ContainerRecord,
)

COMPOSE_ENV_FILES = "com.docker.compose.project.environment_file"
# Seconds `docker compose config` (and the version probe) may take.
CONFIG_TIMEOUT = 60


class CommandRunner(t.Protocol):
    """Runs a command on the host: argv, environment additions, working directory, timeout -> (rc, stdout, stderr)."""

    def __call__(
        self, argv: t.Sequence[str], env: t.Mapping[str, str], cwd: str | None, seconds: float
    ) -> tuple[int, str, str]:
        """The exit code and output of ``argv``."""


def _split(value: str) -> tuple[str, ...]:
    return tuple(f for f in value.split(",") if f)


@dataclasses.dataclass(frozen=True)
class ComposeProject:
    """Where a Compose project was deployed from, as its containers' labels tell."""

    project: str
    config_files: tuple[str, ...] = ()
    working_dir: str = ""
    environment_files: tuple[str, ...] = ()

    @classmethod
    def of(cls, project: str, containers: t.Sequence[ContainerRecord]) -> ComposeProject:
        """From the first container that names its config files (every container of a project names the same)."""
        labels = next((c.labels for c in containers if c.labels.get(COMPOSE_CONFIG_FILES)), {})
        return cls(
            project,
            _split(labels.get(COMPOSE_CONFIG_FILES, "")),
            labels.get(COMPOSE_WORKING_DIR, ""),
            _split(labels.get(COMPOSE_ENV_FILES, "")),
        )

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "config_files": list(self.config_files),
            "working_dir": self.working_dir,
            "environment_files": list(self.environment_files),
        }

    @classmethod
    def from_dict(cls, project: str, d: t.Mapping[str, t.Any]) -> ComposeProject:
        return cls(
            project,
            tuple(str(f) for f in d.get("config_files") or ()),
            str(d.get("working_dir") or ""),
            tuple(str(f) for f in d.get("environment_files") or ()),
        )

    def arguments(self) -> list[str]:
        """The global options that select this project: name, directory, files, env files."""
        args = ["--project-name", self.project]
        if self.working_dir:
            args += ["--project-directory", self.working_dir]
        for f in self.config_files:
            args += ["--file", f]
        for f in self.environment_files:
            args += ["--env-file", f]
        return args

    def up_command(self, services: t.Sequence[str], compose: t.Sequence[str] = ("docker", "compose")) -> list[str]:
        """The command that creates and starts exactly ``services`` and nothing else."""
        up = ["up", "--detach", "--no-deps", "--no-recreate", "--no-build", "--pull", "never"]
        return [*compose, *self.arguments(), *up, *sorted(services)]

    def unreadable(self) -> list[str]:
        """The project's files that cannot be read on this host (all of them when none is named)."""
        if not self.config_files:
            return ["(no com.docker.compose.project.config_files label)"]
        return [f for f in (*self.config_files, *self.environment_files) if not os.access(f, os.R_OK)]


@dataclasses.dataclass(frozen=True)
class RecreateResult:
    ok: bool
    # The command that was run, or that the operator should run.
    command: str
    error: str = ""


def compose_command(run: CommandRunner) -> list[str] | None:
    """``docker compose`` (the CLI plugin) when it answers, else ``docker-compose``, else None."""
    docker = shutil.which("docker")
    if docker is not None and run([docker, "compose", "version"], {}, None, CONFIG_TIMEOUT)[0] == 0:
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


class ComposeCli:
    """Runs the Compose CLI against one Engine (``docker_host``) for one project."""

    def __init__(
        self, project: ComposeProject, docker_host: str, run: CommandRunner | None, *, automatic: bool = True
    ) -> None:
        self.project = project
        self.docker_host = docker_host
        self.run = run
        # False when Compose may not be run from here (a remote Engine: the files are on another host).
        self.automatic = automatic

    def manual_command(self, services: t.Sequence[str]) -> str:
        """What an operator runs on the Docker host to bring ``services`` back."""
        return shlex.join(self.project.up_command(services))

    def recreate(self, services: t.Sequence[str], timeout: float) -> RecreateResult:
        """Create and start exactly ``services`` with Compose; why not, with the command to run, when it cannot."""
        manual = self.manual_command(services)
        if not self.automatic:
            return RecreateResult(False, manual, "the Engine is not local, so its Compose files are not on this host")
        if self.run is None:
            return RecreateResult(False, manual, "this caller runs no commands on the host")
        unreadable = self.project.unreadable()
        if unreadable:
            return RecreateResult(False, manual, f"the project's files cannot be read here: {', '.join(unreadable)}")
        if self.project.working_dir and not os.path.isdir(self.project.working_dir):
            return RecreateResult(False, manual, f"the project's directory {self.project.working_dir!r} is gone")
        compose = compose_command(self.run)
        if compose is None:
            return RecreateResult(False, manual, "neither `docker compose` nor `docker-compose` is installed here")
        env = {"DOCKER_HOST": self.docker_host}
        cwd = self.project.working_dir or None
        config = [*compose, *self.project.arguments(), "config", "--quiet"]
        command = self.project.up_command(services, compose)
        rc, _out, err = self.run(config, env, cwd, CONFIG_TIMEOUT)
        if rc != 0:
            return RecreateResult(False, manual, f"`docker compose config` failed: {_last_line(err)}")
        rc, _out, err = self.run(command, env, cwd, max(timeout, 10))
        if rc != 0:
            return RecreateResult(False, shlex.join(command), f"Compose failed: {_last_line(err)}")
        return RecreateResult(True, shlex.join(command))


def _last_line(text: str) -> str:
    lines = [x.strip() for x in (text or "").splitlines() if x.strip()]
    return lines[-1] if lines else "no output"
