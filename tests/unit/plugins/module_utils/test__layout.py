# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The map of the core in docs/docsite/rst/how_it_works.rst matches the tree, and each file imports only what it may."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[4]
CORE = ROOT / "plugins" / "module_utils"
PREFIX = "ansible_collections.bosun.compose.plugins.module_utils."


def documented() -> dict[str, set[str]]:
    """file -> the core files it may import, from the list-table in docs/docsite/rst/how_it_works.rst.

    Each row is three list items: ``* - ``file.py````, ``- owns``, ``- may import``.
    """
    text = (ROOT / "docs" / "docsite" / "rst" / "how_it_works.rst").read_text(encoding="utf-8")
    table = text.split("The code, file by file\n", 1)[1].split("\n\n.. list-table::", 1)[1]
    table = re.split(r"\n\n(?=\S)", table, maxsplit=1)[0]  # the table ends at the next unindented paragraph
    rows = re.findall(r"^   \* - ``(_\w+\.py)``\n     - .*\n     - (.*)$", table, re.M)
    return {name: set(re.findall(r"``(_\w+)``", allowed)) for name, allowed in rows}


def imports(path: pathlib.Path) -> tuple[set[str], set[str]]:
    """(core files imported, other top-level packages imported) of one file."""
    core: set[str] = set()
    other: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            if name.startswith(PREFIX):
                core.add(name[len(PREFIX) :])
            elif name:
                other.add(name.split(".")[0])
    return core, other


def test_every_core_file_is_in_the_map_and_every_mapped_file_exists() -> None:
    assert sorted(documented()) == sorted(p.name for p in CORE.glob("*.py"))


@pytest.mark.parametrize("name", sorted(p.name for p in CORE.glob("*.py")))
def test_each_file_imports_only_what_the_map_allows(name: str) -> None:
    core, other = imports(CORE / name)
    assert core <= documented()[name], f"{name} imports {sorted(core - documented()[name])} beyond the map"
    assert "ansible" not in other or name == "_module.py", f"{name} imports Ansible"
    assert not {"docker", "requests"} & other or name == "_docker_api.py", f"{name} imports the Docker SDK"


def test_stack_code_never_imports_worker_code() -> None:
    for name in ("_graph.py", "_stack_control.py", "_lease.py"):
        core, _other = imports(CORE / name)
        assert not {m for m in core if m.startswith("_worker")}, name
