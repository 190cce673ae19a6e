"""Defect: a Compose volume left by a removed stack (``docker compose down`` without ``-v``, or a prune that
deleted the stack's containers) names the same job and mount path as another stack's own volume, and that
stack's job failed preflight ("mount path ... is already used by volume ..."). The stack's own volume keeps
the path; the left volume is a warning of the job, not attached."""

from __future__ import annotations

import secrets

import pytest

from harness import FIXTURES, TEST_IMAGE, run

pytestmark = pytest.mark.docker


def test_a_volume_left_by_a_removed_stack_does_not_take_the_stacks_mount_path(
    compose_project, ansible_playbook, tmp_path
):
    job = f"left{secrets.token_hex(3)}"  # a job name of this test only: the left volume names it
    p = compose_project((FIXTURES / "run_stack.yml").read_text().replace(": backup", f": {job}"))
    gone = f"bosun-it-gone-{secrets.token_hex(3)}"
    left = f"{gone}_data"
    labels = [f"com.docker.compose.project={gone}", f"bosun.job.attach={job}", "bosun.job.mount.path=/mnt/data"]
    run(["docker", "volume", "create", *[a for lb in labels for a in ("--label", lb)], left])
    try:
        run(["docker", "run", "--rm", "-v", f"{left}:/v", TEST_IMAGE, "sh", "-c", "echo stale > /v/table.txt"])
        args = {"name": job, "project": p.name}
        result = ansible_playbook(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {"name": "info", "bosun.compose.job_info": args},
                        {"name": "run", "bosun.compose.job_run": {**args, "state_dir": str(tmp_path / "state")}},
                    ],
                }
            ]
        )
        assert result.rc == 0, result
        [info] = result.task("info").result["jobs"]
        assert [m["volume"] for m in info["mounts"]] == [f"{p.name}_data", f"{p.name}_out"] and info["runnable"]
        [warning] = [x for x in info["problems"] if x["object"] == left]
        assert (
            warning["severity"] == "warning"
            and f"volume of Compose project {gone!r} not attached" in warning["message"]
        )
        assert f"the stack's own volume '{p.name}_data'" in warning["message"]
        r = result.task("run").result
        assert r["outcome"] == "success", r
        copy = run(
            ["docker", "run", "--rm", "-v", f"{p.name}_out:/v", TEST_IMAGE, "cat", f"/v/table-{r['run_id']}.txt"]
        )
        assert copy.stdout == "row1\n"  # the stack's own data, not the left volume's
    finally:
        run(["docker", "volume", "rm", "-f", left], check=False)
