# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the Compose dependency graph (no Docker at test time)."""

from __future__ import annotations

import dataclasses
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._graph import (
    build_graph,
    container_levels,
    Dependency,
    dependents_closure,
    MissingDependency,
    parse_depends_on,
    running_stop_levels,
    start_levels,
    stop_levels,
)
from ansible_collections.bosun.compose.plugins.module_utils._errors import GraphError
from ansible_collections.bosun.compose.plugins.module_utils._model import ContainerRecord

# Captured from real runs of Docker Compose v2.40.3 on Docker Engine 20.10.24: `docker compose -p
# graphprobe-<n> up -d` of throw-away stacks, then Labels["com.docker.compose.depends_on"] and
# HostConfig.NetworkMode read from GET /containers/json?all=1, then `down -v -t 0`.
# depends_on: {db: {condition: service_healthy, restart: true}, migrate: {condition: service_completed_successfully}}
REAL_APP = "db:service_healthy:true,migrate:service_completed_successfully:false"
# depends_on: {db: {condition: service_healthy}}
REAL_MIGRATE = "db:service_healthy:false"
# depends_on: [app]  (short syntax, service scaled to 2 replicas; both carry the same label)
REAL_WEB = "app:service_started:false"
# network_mode: "service:app"  (no depends_on; Compose adds it with restart=true)
REAL_SIDECAR = "app:service_started:true"
REAL_SIDECAR_NETWORK_MODE = "container:0e38f5af8687ebffef26a09b6312a4078dda28fd05e8a81d54f068a7908b3040"
REAL_APP_ID = "0e38f5af8687ebffef26a09b6312a4078dda28fd05e8a81d54f068a7908b3040"
# volumes_from: [db]  (no depends_on)
REAL_VOLUMES_FROM = "db:service_started:false"
# links: [db, "db:database"]  (no depends_on; HostConfig.Links is null)
REAL_LINKS = "db:service_started:true"
# depends_on: {zeta: {required: false}, alpha: {}}  (declaration order is kept, `required` is not written)
REAL_ORDER = "zeta:service_started:false,alpha:service_started:false"
# no dependencies: the label is present and empty
REAL_NONE = ""

_ids = iter(range(1, 10_000))


def ctr(
    service: str,
    depends_on: str = "",
    number: int = 1,
    project: str = "p",
    oneoff: bool = False,
    network_mode: str = "none",
    cid: str | None = None,
    extra: t.Mapping[str, str] | None = None,
) -> ContainerRecord:
    labels = {
        "com.docker.compose.project": project,
        "com.docker.compose.service": service,
        "com.docker.compose.container-number": str(number),
        "com.docker.compose.depends_on": depends_on,
        "com.docker.compose.oneoff": "True" if oneoff else "False",
        **(extra or {}),
    }
    return ContainerRecord(
        id=cid or f"{next(_ids):064x}",
        name=f"{project}-{service}-{number}",
        state="running",
        labels=labels,
        network_mode=network_mode,
    )


S, H, C = "service_started", "service_healthy", "service_completed_successfully"


@pytest.mark.parametrize(
    "value, expected",
    [
        (REAL_APP, [Dependency("db", H, True), Dependency("migrate", C, False)]),
        (REAL_MIGRATE, [Dependency("db", H, False)]),
        (REAL_SIDECAR, [Dependency("app", S, True)]),
        (REAL_ORDER, [Dependency("zeta", S, False), Dependency("alpha", S, False)]),
        (REAL_NONE, []),
        ("db", [Dependency("db", S, False)]),
        ("db,cache", [Dependency("db", S, False), Dependency("cache", S, False)]),
        ("db:service_healthy", [Dependency("db", H, False)]),
        (" db : service_healthy : TRUE ,  cache ", [Dependency("db", H, True), Dependency("cache", S, False)]),
        ("   ", []),
        ("db:service_started:false,db:service_healthy:true", [Dependency("db", S, False)]),
    ],
    ids=[
        "real-3part",
        "real-healthy",
        "real-network-mode",
        "real-order",
        "empty",
        "bare",
        "bare-list",
        "2part",
        "whitespace",
        "blank",
        "duplicate-first-wins",
    ],
)
def test_parse_depends_on(value: str, expected: list[Dependency]) -> None:
    assert parse_depends_on(value) == expected


L = "com.docker.compose.depends_on"
ALLOWED = "service_started, service_healthy, service_completed_successfully"


@pytest.mark.parametrize(
    "value, message",
    [
        (
            "db:service_ready:false",
            f"invalid {L} entry 'db:service_ready:false' in 'db:service_ready:false': "
            f"unknown condition 'service_ready'; allowed: {ALLOWED}",
        ),
        ("db::false", f"invalid {L} entry 'db::false' in 'db::false': unknown condition ''; allowed: {ALLOWED}"),
        (
            "db:service_started:maybe",
            f"invalid {L} entry 'db:service_started:maybe' in 'db:service_started:maybe': "
            "restart flag 'maybe' is not valid; allowed: true, false",
        ),
        (
            "db:service_started:false:x",
            f"invalid {L} entry 'db:service_started:false:x' in 'db:service_started:false:x': "
            "too many ':' parts; allowed: comma-separated 'service[:condition[:restart]]' entries",
        ),
        (
            "db,,cache",
            f"invalid {L} entry '' in 'db,,cache': "
            "empty entry; allowed: comma-separated 'service[:condition[:restart]]' entries",
        ),
        (
            ":service_started:false",
            f"invalid {L} entry ':service_started:false' in ':service_started:false': "
            "service name '' is not valid; allowed: letters, digits, '.', '_' and '-'",
        ),
        (
            "my db",
            f"invalid {L} entry 'my db' in 'my db': "
            "service name 'my db' is not valid; allowed: letters, digits, '.', '_' and '-'",
        ),
    ],
    ids=[
        "unknown-condition",
        "empty-condition",
        "bad-restart",
        "too-many-parts",
        "empty-entry",
        "empty-service",
        "space-in-service",
    ],
)
def test_parse_depends_on_errors(value: str, message: str) -> None:
    with pytest.raises(GraphError) as err:
        parse_depends_on(value)
    assert err.value.message == message
    assert err.value.context == {"label": L, "value": value}


def test_build_graph_wraps_label_error_with_container() -> None:
    with pytest.raises(GraphError) as err:
        build_graph([ctr("db"), ctr("app", "db:nope")])
    assert err.value.message == (
        f"container 'p-app-1' of service 'app' in stack 'p': invalid {L} entry 'db:nope' in 'db:nope': "
        f"unknown condition 'nope'; allowed: {ALLOWED}"
    )
    assert err.value.context["container"] == "p-app-1"


# The stack captured above, as the list endpoint reports it (migrate has exited, which does not matter).
REAL_STACK = [
    ctr("app", REAL_APP, cid=REAL_APP_ID),
    ctr("db", REAL_NONE),
    ctr("migrate", REAL_MIGRATE),
    ctr("plain", REAL_NONE),
    ctr("sidecar", REAL_SIDECAR, network_mode=REAL_SIDECAR_NETWORK_MODE),
    ctr("vf", REAL_VOLUMES_FROM),
    ctr("web", REAL_WEB, number=2),
    ctr("web", REAL_WEB, number=1),
]


@pytest.mark.parametrize(
    "containers, expected",
    [
        ([ctr("c", "b:service_started:false"), ctr("a"), ctr("b", "a:service_started:false")], [["a"], ["b"], ["c"]]),
        (
            [
                ctr("top", "left:service_started:false,right:service_healthy:false"),
                ctr("left", "base:service_started:false"),
                ctr("right", "base:service_started:false"),
                ctr("base"),
            ],
            [["base"], ["left", "right"], ["top"]],
        ),
        ([ctr("z"), ctr("a"), ctr("m")], [["a", "m", "z"]]),
        (
            [ctr("db"), ctr("web", "db", number=3), ctr("web", "db", number=1), ctr("web", "db", number=2)],
            [["db"], ["web"]],
        ),
        (REAL_STACK, [["db", "plain"], ["migrate", "vf"], ["app"], ["sidecar", "web"]]),
        ([ctr("app", "db:service_started:false,cache:service_started:false"), ctr("db")], [["db"], ["app"]]),
        ([], []),
    ],
    ids=["linear-chain", "diamond", "independent", "replicas", "real-stack", "missing-dependency", "empty"],
)
def test_levels(containers: list[ContainerRecord], expected: list[list[str]]) -> None:
    graph = build_graph(containers)
    assert start_levels(graph) == expected
    assert stop_levels(graph) == list(reversed(expected))


def test_replicas_all_kept_in_number_order() -> None:
    # The original tool kept one container per service; every replica must be stopped and started.
    web = [ctr("web", "db", number=n) for n in (10, 2, 1)]
    graph = build_graph([web[0], ctr("db"), web[1], web[2]])
    assert [c.name for c in graph.containers["web"]] == ["p-web-1", "p-web-2", "p-web-10"]
    levels = container_levels(graph, start_levels(graph))
    assert [[c.name for c in level] for level in levels] == [["p-db-1"], ["p-web-1", "p-web-2", "p-web-10"]]
    stop = container_levels(graph, stop_levels(graph))
    assert [[c.name for c in level] for level in stop] == [["p-web-1", "p-web-2", "p-web-10"], ["p-db-1"]]


def test_container_levels_unknown_service() -> None:
    graph = build_graph([ctr("db"), ctr("app")])
    with pytest.raises(GraphError) as err:
        container_levels(graph, [["db"], ["nope"]])
    assert err.value.message == "unknown service 'nope' in stack 'p'; allowed: app, db"


@pytest.mark.parametrize(
    "containers, message",
    [
        (
            [ctr("a", "b:service_started:false"), ctr("b", "a:service_started:false")],
            "dependency cycle in stack 'p': a -> b -> a",
        ),
        (
            [
                ctr("c", "a:service_started:false"),
                ctr("a", "b:service_started:false"),
                ctr("b", "c:service_healthy:false"),
            ],
            "dependency cycle in stack 'p': a -> b -> c -> a",
        ),
        (
            [ctr("b", "c"), ctr("c", "d"), ctr("d", "b"), ctr("a", "b"), ctr("e")],
            "dependency cycle in stack 'p': b -> c -> d -> b",
        ),
        ([ctr("a", "a:service_started:false"), ctr("b")], "dependency cycle in stack 'p': a -> a"),
    ],
    ids=["2-cycle", "3-cycle", "cycle-behind-dependent", "self-dependency"],
)
def test_cycles(containers: list[ContainerRecord], message: str) -> None:
    graph = build_graph(containers)
    for levels in (start_levels, stop_levels):
        with pytest.raises(GraphError) as err:
            levels(graph)
        assert err.value.message == message


def test_missing_dependencies_are_recorded() -> None:
    graph = build_graph([ctr("app", "db:service_started:false,cache:service_healthy:false,queue"), ctr("db")])
    assert graph.dependencies["app"] == (Dependency("db", S, False),)
    assert graph.missing == (MissingDependency("app", "cache"), MissingDependency("app", "queue"))


@pytest.mark.parametrize(
    "network_mode, expected",
    [
        (REAL_SIDECAR_NETWORK_MODE, (Dependency("app", S, True),)),
        ("container:0e38f5af8687", (Dependency("app", S, True),)),
        ("container:p-app-1", (Dependency("app", S, True),)),
        ("container:/p-app-1", (Dependency("app", S, True),)),
        ("container:" + "f" * 64, ()),
        ("none", ()),
        ("p_default", ()),
    ],
    ids=["real-full-id", "short-id", "name", "slash-name", "other-stack", "none", "network"],
)
def test_network_mode_container_mapping(network_mode: str, expected: tuple[Dependency, ...]) -> None:
    # Label left empty on purpose: the NetworkMode fallback must find the dependency on its own.
    graph = build_graph([ctr("app", cid=REAL_APP_ID), ctr("sidecar", network_mode=network_mode)])
    assert graph.dependencies["sidecar"] == expected
    assert graph.missing == ()


def test_network_mode_label_wins_over_implicit() -> None:
    # What Compose writes for network_mode + an explicit depends_on with restart: false.
    sidecar = ctr("sidecar", "app:service_healthy:false", network_mode=REAL_SIDECAR_NETWORK_MODE)
    graph = build_graph([ctr("app", cid=REAL_APP_ID), sidecar])
    assert graph.dependencies["sidecar"] == (Dependency("app", H, False),)


@pytest.mark.parametrize(
    "containers, expected",
    [
        ([ctr("db"), ctr("db", oneoff=True, number=2), ctr("app", "db")], {"db": 1, "app": 1}),
        ([ctr("db"), ctr("w", extra={"bosun.worker.run-id": "x"})], {"db": 1}),
        ([ctr("db"), ContainerRecord("x", "plain", "running", {"com.docker.compose.project": "p"})], {"db": 1}),
    ],
    ids=["oneoff-excluded", "worker-excluded", "no-service-label"],
)
def test_members(containers: list[ContainerRecord], expected: dict[str, int]) -> None:
    graph = build_graph(containers)
    assert {s: len(cs) for s, cs in graph.containers.items()} == expected


def test_mixed_projects_rejected() -> None:
    with pytest.raises(GraphError) as err:
        build_graph([ctr("db", project="p"), ctr("db", project="q")])
    assert err.value.message == (
        "containers of 2 Compose projects given ('p', 'q'); allowed: the containers of exactly one project"
    )


@pytest.mark.parametrize(
    "services, expected",
    [
        (["db"], {"db", "migrate", "app", "sidecar", "web", "vf"}),
        (["app"], {"app", "sidecar", "web"}),
        (["web"], {"web"}),
        (["plain", "migrate"], {"plain", "migrate", "app", "sidecar", "web"}),
        ([], set()),
    ],
    ids=["root", "middle", "leaf", "several", "none"],
)
def test_dependents_closure(services: list[str], expected: set[str]) -> None:
    assert dependents_closure(build_graph(REAL_STACK), services) == expected


def test_dependents_closure_unknown_service() -> None:
    with pytest.raises(GraphError) as err:
        dependents_closure(build_graph([ctr("db"), ctr("app")]), ["nope", "db"])
    assert err.value.message == "unknown service(s) 'nope' in stack 'p'; allowed: app, db"


def names(levels: t.Sequence[t.Sequence[ContainerRecord]]) -> list[list[str]]:
    return [[c.name for c in level] for level in levels]


def test_running_stop_levels_whole_stack_skips_stopped_and_empty_levels() -> None:
    db, app, web = ctr("db"), ctr("app", "db:service_started:false"), ctr("web", "app:service_started:false")
    stopped_app = dataclasses.replace(app, state="exited")
    levels, added = running_stop_levels(build_graph([db, stopped_app, web]))
    assert names(levels) == [[web.name], [db.name]]
    assert added == []


def test_running_stop_levels_adds_every_dependent_of_the_asked_services() -> None:
    db = ctr("db")
    app = ctr("app", "db:service_healthy:false")
    web = ctr("web", "app:service_started:false")
    cron = ctr("cron")
    levels, added = running_stop_levels(build_graph([db, app, web, cron]), ["db"])
    assert names(levels) == [[web.name], [app.name], [db.name]]
    assert added == ["app", "web"]


def test_running_stop_levels_unknown_service() -> None:
    with pytest.raises(GraphError) as err:
        running_stop_levels(build_graph([ctr("db")]), ["nope"])
    assert err.value.message == "unknown service(s) 'nope' in stack 'p'; allowed: db"


# ---- podman-compose stacks: no depends_on label, the compose files instead ----------------------------------

# The labels podman-compose 1.6.0 (and 1.0.3, less PODMAN_SYSTEMD_UNIT) put on `web` of a real stack, measured.
PODMAN_COMPOSE_LABELS = {
    "com.docker.compose.container-number": "1",
    "com.docker.compose.project": "pcm",
    "com.docker.compose.project.config_files": "compose.yml",
    "com.docker.compose.project.working_dir": "/srv/pcm",
    "io.podman.compose.project": "pcm",
    "PODMAN_SYSTEMD_UNIT": "podman-compose@pcm.service",
}
PODMAN_COMPOSE_FILE = """\
services:
  db: {image: busybox}
  app:
    image: busybox
    depends_on: [db]
  web:
    image: busybox
    depends_on:
      app: {condition: service_started, restart: true}
"""


def pc(service: str, workdir: str, files: str = "compose.yml") -> ContainerRecord:
    labels = dict(PODMAN_COMPOSE_LABELS, **{"com.docker.compose.service": service})
    labels.update({"com.docker.compose.project.working_dir": workdir, "com.docker.compose.project.config_files": files})
    return ContainerRecord(id=f"id-{service}", name=f"pcm_{service}_1", state="running", labels=labels)


def test_podman_compose_stack_is_ordered_from_its_compose_file(tmp_path: t.Any) -> None:
    (tmp_path / "compose.yml").write_text(PODMAN_COMPOSE_FILE, encoding="utf-8")
    graph = build_graph([pc(s, str(tmp_path)) for s in ("web", "db", "app")])
    assert graph.notes == ()
    assert graph.dependencies["web"] == (Dependency("app", "service_started", True),)
    assert graph.dependencies["app"] == (Dependency("db"),)
    assert start_levels(graph) == [["db"], ["app"], ["web"]]


def test_later_compose_files_add_dependencies(tmp_path: t.Any) -> None:
    (tmp_path / "compose.yml").write_text(PODMAN_COMPOSE_FILE, encoding="utf-8")
    (tmp_path / "override.yml").write_text(
        "services:\n  db:\n    depends_on: {}\n  app:\n    depends_on:\n      web2: {}\n"
    )
    graph = build_graph([pc(s, str(tmp_path), "compose.yml,override.yml") for s in ("web", "db", "app")])
    assert [d.service for d in graph.dependencies["app"]] == ["db"]
    assert graph.missing == (MissingDependency("app", "web2"),)


def test_unreadable_compose_files_give_one_level_and_say_why(tmp_path: t.Any) -> None:
    graph = build_graph([pc(s, str(tmp_path / "gone")) for s in ("web", "db", "app")])
    assert start_levels(graph) == [["app", "db", "web"]]
    (note,) = graph.notes
    assert "stack 'pcm' is stopped and started in one level" in note
    assert str(tmp_path / "gone" / "compose.yml") in note and "No such file" in note


def test_a_bad_depends_on_in_the_file_gives_one_level_and_names_it(tmp_path: t.Any) -> None:
    (tmp_path / "compose.yml").write_text("services:\n  app:\n    depends_on:\n      db: {condition: soon}\n")
    graph = build_graph([pc(s, str(tmp_path)) for s in ("db", "app")])
    assert start_levels(graph) == [["app", "db"]]
    assert "condition 'soon'" in graph.notes[0]


def test_compose_v2_labels_win_and_no_file_is_read() -> None:
    def never(paths: t.Sequence[str]) -> list[t.Any]:
        raise AssertionError(f"read {paths}")

    app = dataclasses.replace(pc("app", "/nowhere"), labels={**pc("app", "/nowhere").labels, L: "db"})
    db = dataclasses.replace(pc("db", "/nowhere"), labels={**pc("db", "/nowhere").labels, L: ""})
    graph = build_graph([app, db], read=never)
    assert graph.notes == () and start_levels(graph) == [["db"], ["app"]]
