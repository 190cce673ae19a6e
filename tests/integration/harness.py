"""Integration-test harness: the real Docker daemon, real Compose v2 and real Ansible, no mocks.

Used by conftest.py; importable by tests for the data classes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import re
import secrets
import signal
import subprocess
import tempfile
import time
import typing as t
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
VENV_BIN = Path(os.environ.get("BOSUN_VENV", ROOT / ".venv")) / "bin"
VENV_PYTHON = VENV_BIN / "python"
TEST_IMAGE = os.environ.get("BOSUN_TEST_IMAGE", "bosun-test/busybox:latest")
PROJECT_PREFIX = "bosun-it-"
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
WORKER_LABEL = "bosun.worker.job"
# Ansible finds the collection through build/collections/ansible_collections/bosun/compose -> ROOT
# (the Makefile makes the same farm).
COLLECTIONS_PATH = ROOT / "build" / "collections"
# Rootful Podman's Docker-compatible API (scripts/bootstrap.sh starts it); tests marked `podman` also run there.
PODMAN_HOST = os.environ.get("BOSUN_PODMAN_HOST", "unix:///run/podman/podman.sock")
ENGINES = {"docker": None, "podman": PODMAN_HOST}  # kind -> DOCKER_HOST (None: the environment's)
# Leftover bosun-it-* projects older than this are swept at session start; younger ones may belong to
# another pytest run on the same daemon (no single test lives this long: pytest-timeout is 300 s).
STALE_AFTER = 30 * 60


class CommandError(AssertionError):
    """A command the harness ran failed; the message carries the command, rc, stdout and stderr."""


def run(
    argv: t.Sequence[str | os.PathLike],
    *,
    check: bool = True,
    timeout: float = 120,
    env: t.Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
) -> subprocess.CompletedProcess:
    """Run a command in its own process group; on timeout the whole group is killed."""
    argv = [str(a) for a in argv]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise CommandError(
            f"timed out after {timeout}s: {' '.join(argv)}\n--- stdout\n{out}\n--- stderr\n{err}"
        ) from None
    result = subprocess.CompletedProcess(argv, proc.returncode, out, err)
    if check and result.returncode != 0:
        raise CommandError(f"rc={result.returncode}: {' '.join(argv)}\n--- stdout\n{out}\n--- stderr\n{err}")
    return result


@contextlib.contextmanager
def docker_host(host: str | None) -> t.Iterator[None]:
    """DOCKER_HOST=host for the commands run inside (None: leave the environment's)."""
    saved = os.environ.get("DOCKER_HOST")
    if host is not None:
        os.environ["DOCKER_HOST"] = host
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = saved


def run_once(args: t.Sequence[str], *, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    """`docker run --rm ARGS` with the command's exit code on every engine: the docker CLI's `run --rm`
    against Podman 4.3 always exits 0, so the container is named, run and removed afterwards."""
    name = f"bosun-it-once-{secrets.token_hex(4)}"
    try:
        return run(["docker", "run", "--name", name, *args], check=check, timeout=timeout)
    finally:
        run(["docker", "rm", "-f", name], check=False)


def ensure_collection_farm() -> Path:
    """Create the symlink build/collections/ansible_collections/bosun/compose -> ROOT (atomic, xdist-safe)."""
    link = COLLECTIONS_PATH / "ansible_collections" / "bosun" / "compose"
    if link.is_symlink() and link.resolve() == ROOT:
        return COLLECTIONS_PATH
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".compose-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(ROOT)
    os.replace(tmp, link)
    return COLLECTIONS_PATH


def project_name(test_name: str) -> str:
    """bosun-it-<short test name>-<random6>, valid as a Compose project name."""
    short = re.sub(r"[^a-z0-9]+", "-", test_name.lower().removeprefix("test_")).strip("-")[:24].strip("-")
    return f"{PROJECT_PREFIX}{short or 'x'}-{secrets.token_hex(3)}"


def parse_json_lines(text: str) -> list[dict]:
    """`docker ... --format json` prints a JSON array or one object per line, depending on the version."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def project_workers(name: str) -> list[str]:
    """Ids of worker containers (label bosun.worker.job) that belong to project `name`:
    any of their label values equals the project name, or their container name starts with it."""
    ids = run(["docker", "ps", "-aq", "--no-trunc", "--filter", f"label={WORKER_LABEL}"]).stdout.split()
    if not ids:
        return []
    found = []
    for c in json.loads(run(["docker", "inspect", *ids], check=False).stdout or "[]"):
        labels = c.get("Config", {}).get("Labels") or {}
        if name in labels.values() or c.get("Name", "").lstrip("/").startswith(name):
            found.append(c["Id"])
    return found


def remove_project(name: str, file: Path | None = None) -> None:
    """Remove everything of a project: services, orphans, volumes, networks, its workers and its lease.
    Without a file, Compose finds the project's resources by label."""
    workers = project_workers(name)
    if workers:
        run(["docker", "rm", "-f", "-v", *workers])
    # The daemon-side lease of the stack: Compose does not know that container.
    run(["docker", "rm", "-f", f"bosun-lease-{name}"], check=False)
    files = ["-f", str(file)] if file is not None and file.exists() else []
    run(["docker", "compose", "-p", name, *files, "down", "-v", "-t", "0", "--remove-orphans"], timeout=120)


def _created(ts: str) -> datetime.datetime:
    # Docker prints RFC 3339 with nanoseconds; fromisoformat takes at most microseconds.
    return datetime.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", ts).replace("Z", "+00:00"))


def leftover_projects(min_age: float = 0) -> list[str]:
    """Names of bosun-it-* projects that still own containers or volumes on the daemon, and whose
    newest container or volume is older than min_age seconds (younger ones may belong to a live run)."""
    newest: dict[str, datetime.datetime] = {}
    label = f"label={COMPOSE_PROJECT_LABEL}"
    for ls, inspect, key in (
        (["ps", "-aq"], ["inspect"], "Created"),
        (["volume", "ls", "-q"], ["volume", "inspect"], "CreatedAt"),
    ):
        ids = run(["docker", *ls, "--filter", label]).stdout.split()
        objects = json.loads(run(["docker", *inspect, *ids], check=False).stdout or "[]") if ids else []
        for obj in objects:
            labels = obj.get("Labels") or obj.get("Config", {}).get("Labels") or {}
            name = labels.get(COMPOSE_PROJECT_LABEL, "")
            if name.startswith(PROJECT_PREFIX):
                created = _created(obj[key])
                newest[name] = max(created, newest.get(name, created))
    now = datetime.datetime.now(datetime.timezone.utc)
    return sorted(n for n, c in newest.items() if (now - c).total_seconds() >= min_age)


@dataclasses.dataclass
class ComposeProject:
    """A Compose project under test. `compose(*args)` runs `docker compose -p NAME -f FILE ...`."""

    name: str
    file: Path

    def compose(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        return run(["docker", "compose", "-p", self.name, "-f", str(self.file), *args], check=check, timeout=timeout)

    def up(self) -> None:
        self.compose("up", "-d")

    def ps(self, *args: str) -> list[dict]:
        """`docker compose ps --format json` of all containers (running or not), parsed."""
        return parse_json_lines(self.compose("ps", "-a", "--format", "json", *args).stdout)

    def container_ids(self) -> list[str]:
        return self.compose("ps", "-aq", "--no-trunc").stdout.split()

    def down(self) -> None:
        remove_project(self.name, self.file)


def compose_source(spec: str | dict | os.PathLike) -> str:
    """The compose YAML for `spec`: a dict, a fixture file name under tests/integration/fixtures/,
    a path, or YAML text."""
    if isinstance(spec, dict):
        return yaml.safe_dump(spec, sort_keys=False)
    if isinstance(spec, os.PathLike):
        return Path(spec).read_text(encoding="utf-8")
    if "\n" not in spec and spec.endswith((".yml", ".yaml")):
        path = Path(spec) if Path(spec).is_absolute() else FIXTURES / spec
        return path.read_text(encoding="utf-8")
    return spec


@dataclasses.dataclass
class TaskResult:
    task: str
    action: str
    play: str | None
    host: str
    status: str  # ok, changed, failed, skipped or unreachable
    ignored: bool
    result: dict

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "changed")


@dataclasses.dataclass
class AnsibleRun:
    """One ansible-playbook or ansible run: rc, stdout, stderr and the recorded task results in order."""

    argv: list[str]
    rc: int
    stdout: str
    stderr: str
    results: list[TaskResult]

    def tasks(self, name: str, host: str | None = None) -> list[TaskResult]:
        return [r for r in self.results if r.task == name and (host is None or r.host == host)]

    def task(self, name: str, host: str | None = None) -> TaskResult:
        """The one result of the task named `name` (on `host`); fails if there is none or several."""
        found = self.tasks(name, host)
        if len(found) != 1:
            seen = [(r.task, r.host, r.status) for r in self.results]
            raise AssertionError(f"expected one result of task {name!r}, found {len(found)}; recorded: {seen}\n{self}")
        return found[0]

    def __str__(self) -> str:
        return f"$ {' '.join(self.argv)}\nrc={self.rc}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@dataclasses.dataclass
class Background:
    """An ansible-playbook started by Ansible.start() and still running (in a session of its own)."""

    proc: subprocess.Popen
    dir: Path
    argv: list[str]

    def finish(self, timeout: float = 200) -> AnsibleRun:
        """Wait for it (killing its whole session after ``timeout`` s) and return what it recorded."""
        try:
            out = self.proc.communicate(timeout=timeout)[0]
        finally:
            self.kill()
        record = self.dir / "results.jsonl"
        lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
        results = [TaskResult(**json.loads(line)) for line in lines]
        return AnsibleRun(self.argv, self.proc.returncode, out or "", "", results)

    def kill(self) -> None:
        """SIGKILL its session (ansible-playbook, its forks and the modules they run), if it still runs."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


class Ansible:
    """Runs the real ansible-playbook / ansible from the venv against localhost, each run in its own directory."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._count = 0

    def _prepare(self) -> tuple[Path, dict[str, str]]:
        self._count += 1
        d = self.workdir / f"ansible-{self._count}"
        d.mkdir(parents=True)
        (d / "hosts.ini").write_text(
            f"localhost ansible_connection=local ansible_python_interpreter={VENV_PYTHON}\n", encoding="utf-8"
        )
        env = dict(os.environ)
        env.update(
            {
                "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                "ANSIBLE_COLLECTIONS_PATH": str(ensure_collection_farm()),
                "ANSIBLE_PYTHON_INTERPRETER": str(VENV_PYTHON),
                "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
                "ANSIBLE_CALLBACKS_ENABLED": "bosun_record",
                "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",  # ad-hoc `ansible` loads no enabled callbacks without it
                "BOSUN_RECORD_FILE": str(d / "results.jsonl"),
                "ANSIBLE_LOCAL_TEMP": str(d / "tmp"),
                "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_FORCE_COLOR": "0",
                "ANSIBLE_DEPRECATION_WARNINGS": "1",
            }
        )
        env.pop("ANSIBLE_CONFIG", None)
        return d, env

    def _finish(self, d: Path, argv: list[str], env: dict[str, str], timeout: float) -> AnsibleRun:
        proc = run(argv, check=False, timeout=timeout, env=env, cwd=d)
        record = d / "results.jsonl"
        lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
        return AnsibleRun(
            argv, proc.returncode, proc.stdout, proc.stderr, [TaskResult(**json.loads(line)) for line in lines]
        )

    def playbook(
        self,
        plays: str | list,
        *,
        check: bool = False,
        diff: bool = False,
        extra_vars: dict | None = None,
        args: t.Sequence[str] = (),
        timeout: float = 300,
    ) -> AnsibleRun:
        """Run a playbook given as YAML text or as a list of plays."""
        d, env = self._prepare()
        pb = d / "playbook.yml"
        pb.write_text(plays if isinstance(plays, str) else yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(d / "hosts.ini"), str(pb)]
        argv += ["--check"] if check else []
        argv += ["--diff"] if diff else []
        if extra_vars:
            argv += ["--extra-vars", json.dumps(extra_vars)]
        return self._finish(d, argv + list(args), env, timeout)

    def start(
        self, plays: list, *, extra_vars: dict | None = None, env: t.Mapping[str, str] | None = None
    ) -> Background:
        """Start a playbook in the background, in a session of its own, stdout and stderr together; the test
        acts on the stack meanwhile, then calls finish()."""
        d, full_env = self._prepare()
        full_env.update(env or {})
        pb = d / "playbook.yml"
        pb.write_text(yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(d / "hosts.ini"), str(pb)]
        if extra_vars:
            argv += ["--extra-vars", json.dumps(extra_vars)]
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            argv,
            cwd=d,
            env=full_env,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return Background(proc, d, argv)

    def adhoc(
        self,
        module: str,
        module_args: str | dict | None = None,
        *,
        pattern: str = "localhost",
        check: bool = False,
        args: t.Sequence[str] = (),
        timeout: float = 300,
    ) -> AnsibleRun:
        """Run one module with the `ansible` command; its recorded task name is the module name."""
        d, env = self._prepare()
        argv = [str(VENV_BIN / "ansible"), pattern, "-i", str(d / "hosts.ini"), "-m", module]
        if module_args:
            argv += ["-a", module_args if isinstance(module_args, str) else json.dumps(module_args)]
        argv += ["--check"] if check else []
        return self._finish(d, argv + list(args), env, timeout)


if __name__ == "__main__":
    # `python tests/integration/harness.py sweep`: remove every bosun-it-* project now, whatever its age.
    import sys

    if sys.argv[1:] != ["sweep"]:
        sys.exit("usage: harness.py sweep")
    for leftover in leftover_projects():
        print(f"removing {leftover}")
        remove_project(leftover)


class EventLog:
    """Every container event of the daemon, streamed to a file from the start of the session.

    `docker events --since` only replays what the daemon still holds (its last 256 events), which a busy
    daemon evicts within one test; a stream started beforehand misses nothing. No thread: the stream is
    written by `docker events` itself and read when asked (ansible-runner forks, and forking a threaded
    process is unsafe).

    The stream starts `--since` the moment it was asked for, so events between the request and the
    connection are replayed, not lost. A stream that ended (the Engine closed it) is started again from its
    last event. Each event is returned once: Podman replays the newer half of its event file to every
    stream when it rotates that file (at 1 MB, podman 4.3), identical lines.
    """

    def __init__(self) -> None:
        self._file = tempfile.NamedTemporaryFile(prefix="bosun-events-", suffix=".jsonl")  # noqa: SIM115  # pylint: disable=consider-using-with
        self._host = os.environ.get("DOCKER_HOST", "")
        self._proc = self._stream(time.time())

    def _stream(self, since: float) -> subprocess.Popen:
        self._err = tempfile.TemporaryFile()  # noqa: SIM115  # pylint: disable=consider-using-with
        return subprocess.Popen(
            ["docker", "events", "--format", "{{json .}}", "--filter", "type=container", "--since", f"{since:.9f}"],
            stdout=self._file,
            stderr=self._err,
            env={**os.environ, "DOCKER_HOST": self._host} if self._host else os.environ,
        )

    def _events(self) -> list[dict]:
        with open(self._file.name, encoding="utf-8") as f:
            # The last line may still be being written.
            events = [json.loads(line) for line in f if line.endswith("\n") and line.strip()]
        return list({(e.get("id"), e.get("Action"), e["timeNano"]): e for e in events}.values())

    def _restarted(self, events: list[dict]) -> bool:
        """Starts the stream again from its last event if it ended; whether it had."""
        if self._proc.poll() is None:
            return False
        self._err.seek(0)
        why = f"rc={self._proc.returncode}: {self._err.read().decode(errors='replace').strip()}"
        self._err.close()
        print(f"harness: the event stream of DOCKER_HOST={self._host!r} ended ({why}); started again")
        last = max((e["timeNano"] for e in events), default=None)
        self._proc = self._stream(time.time() - 60 if last is None else last / 1e9)
        return True

    def since(
        self, since: float, *, project: str | None = None, name: str | None = None, settle: float = 0.5
    ) -> list[dict]:
        """The events at or after `since` (a time.time()), oldest first; waits `settle` s for late ones."""
        time.sleep(settle)
        events = self._events()
        if self._restarted(events):
            time.sleep(2)  # the replay of what the ended stream missed
            events = self._events()
        found = [e for e in events if e["timeNano"] / 1e9 >= since]
        if project is not None:
            found = [e for e in found if e["Actor"]["Attributes"].get("com.docker.compose.project") == project]
        if name is not None:
            found = [e for e in found if e["Actor"]["Attributes"].get("name") == name]
        return sorted(found, key=lambda e: e["timeNano"])

    def close(self) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=10)
        self._err.close()
        self._file.close()


_EVENT_LOGS: dict[str, EventLog] = {}


def event_log() -> EventLog:
    """The event stream of the engine DOCKER_HOST names now, started on first use (conftest starts the
    default engine's before any test runs, a podman test's fixture Podman's)."""
    key = os.environ.get("DOCKER_HOST", "")
    if key not in _EVENT_LOGS:
        _EVENT_LOGS[key] = EventLog()
    return _EVENT_LOGS[key]


def close_event_logs() -> None:
    for log in _EVENT_LOGS.values():
        log.close()
    _EVENT_LOGS.clear()
