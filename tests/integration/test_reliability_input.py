"""Reliability (issue 5, item 7): absurd label values on a real stack are rejected before anything stops.

The parser itself is fuzzed in tests/unit/plugins/module_utils/test_fuzz_labels.py; here the same kinds of
values go through Docker (labels written by Compose, and non-UTF-8 bytes written with the docker CLI) and
real ansible-playbook: job_info names every problem, job_run fails preflight and the stack is untouched.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from harness import FIXTURES, TEST_IMAGE, run
from stackcheck import snapshot_started

pytestmark = pytest.mark.docker

ABSURD = {
    "bosun.job.timeout": "-5s",
    "bosun.job.stop-timeout": "99999999999999999999",
    "bosun.job.start-timeout": "0",
    "bosun.job.overlap-policy": "cancel",
    "bosun.job.worker.env.TOKEN": "a",
    "bosun.job.worker.env.token": "b",
    "bosun.job.worker.command": "x" * 10_000,
}
VOLUME_ABSURD = {
    "data": {"bosun.job.mount.path": "relative/dir"},
    "out": {"bosun.job.mount.path": "/", "bosun.job.mount.mode": "rwx"},
}


@pytest.fixture
def extra_container():
    """Removes the CLI-made container afterwards: Compose's --remove-orphans does not take it."""
    names: list[str] = []
    yield names.append
    for name in names:
        run(["docker", "rm", "-f", name], check=False)


def test_absurd_labels_are_named_and_nothing_stops(compose_project, ansible_playbook, tmp_path, extra_container):
    spec = yaml.safe_load((FIXTURES / "rel_stack.yml").read_text(encoding="utf-8"))
    spec["services"]["db"]["labels"].update(ABSURD)
    for volume, labels in VOLUME_ABSURD.items():
        spec["volumes"][volume]["labels"].update(labels)
    p = compose_project(spec)
    # A stopped member written with the docker CLI: its label value is not valid UTF-8.
    extra_container(f"{p.name}-extra-1")
    subprocess.run(
        [
            b"docker",
            b"create",
            b"--name",
            f"{p.name}-extra-1".encode(),
            b"--network",
            b"none",
            b"--label",
            f"com.docker.compose.project={p.name}".encode(),
            b"--label",
            b"com.docker.compose.service=extra",
            b"--label",
            b"bosun.job.name=rel-a",
            b"--label",
            b"bosun.job.worker.user=r\xffoot",
            TEST_IMAGE.encode(),
            b"true",
        ],
        check=True,
        capture_output=True,
    )
    before = snapshot_started(p)
    result = ansible_playbook(
        [
            {
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [
                    {"name": "info", "bosun.compose.job_info": {"project": p.name, "name": "rel-a"}},
                    {
                        "name": "run",
                        "bosun.compose.job_run": {
                            "name": "rel-a",
                            "project": p.name,
                            "state_dir": str(tmp_path / "state"),
                        },
                        "ignore_errors": True,
                    },
                ],
            }
        ]
    )
    [job] = result.task("info").result["jobs"]
    errors = {(x["object"], x["label"]) for x in job["problems"] if x["severity"] == "error"}
    db, extra = f"{p.name}-db-1", f"{p.name}-extra-1"
    expected = {(db, label) for label in ABSURD if label != "bosun.job.worker.env.TOKEN"} | {
        (extra, "bosun.job.worker.user"),
        (f"{p.name}_data", "bosun.job.mount.path"),
        (f"{p.name}_out", "bosun.job.mount.path"),
        (f"{p.name}_out", "bosun.job.mount.mode"),
    }
    assert errors == expected, job["problems"]
    assert job["runnable"] is False
    for x in job["problems"]:
        if x["severity"] != "error":
            continue  # e.g. the job name is also declared by other test stacks on this daemon
        assert x["object"] in x["message"] and x["label"] in x["message"], x
        assert len(x["message"]) < 800, x  # the 10,000-character value is shortened
    r = result.task("run").result
    assert r["outcome"] == "preflight_failed" and "nothing was stopped" in r["msg"], r
    assert r["stopped"] == [] and r["steps"] == []
    assert snapshot_started(p) == before
