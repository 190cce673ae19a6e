#!/usr/bin/env bash
# End-to-end demo of bosun.compose, run by `make demo` (after `make bootstrap` and the collection farm).
# Brings up the demo stack (project bosun-demo), lists its jobs, runs the demo-backup job through the
# collection playbook, and shows the new backup and the stack running again. Re-runnable: each run adds a backup.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PROJECT=bosun-demo
FILE=demo/compose.yaml
INVENTORY=demo/inventory.ini
IMAGE=bosun-test/busybox:latest
# ENGINE=podman runs the same demo against rootful Podman's Docker-compatible API (started by make bootstrap):
# the docker CLI, Compose v2 and the modules all follow DOCKER_HOST.
case "${ENGINE:-docker}" in
  docker) ;;
  podman) export DOCKER_HOST="${PODMAN_HOST:-unix:///run/podman/podman.sock}" ;;
  *) echo "ENGINE must be docker or podman, got '${ENGINE}'" >&2; exit 2 ;;
esac

# The Makefile sets these; default them so the script also runs on its own.
export PATH="$ROOT/.venv/bin:$PATH"
if [[ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
  export ANSIBLE_COLLECTIONS_PATH="$ROOT/build/collections"
  mkdir -p "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/bosun"
  ln -sfn "$ROOT" "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/bosun/compose"
fi
export ANSIBLE_PYTHON_INTERPRETER="${ANSIBLE_PYTHON_INTERPRETER:-$ROOT/.venv/bin/python}"
export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-1}"
export ANSIBLE_RETRY_FILES_ENABLED=0

step() { printf '\n=== %s\n' "$*"; }
compose() { docker compose -p "$PROJECT" -f "$FILE" "$@"; }

docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "image $IMAGE missing on ${ENGINE:-docker}: run make bootstrap" >&2; exit 1; }
echo "engine: ${ENGINE:-docker} ($(docker version -f '{{.Server.Version}}') at ${DOCKER_HOST:-the default socket})"

step "1. Restart the demo stack if an earlier, interrupted run left it down (usually nothing to do)"
ansible-playbook -i "$INVENTORY" bosun.compose.recover -e project="$PROJECT"

step "2. Bring the demo stack up (docker compose -p $PROJECT -f $FILE up -d)"
compose up -d
compose ps

step "3. The jobs declared on this Docker host (ansible-playbook bosun.compose.list_jobs)"
ansible-playbook -i "$INVENTORY" bosun.compose.list_jobs -e project="$PROJECT"

step "4. Run the job (ansible-playbook bosun.compose.run_job -e job=demo-backup): plan, pre hooks, stop, worker, start, after-phase, finally hooks, report"
web_started=$(docker inspect -f '{{.State.StartedAt}}' "$(compose ps -q web)")
rc=0
ansible-playbook -i "$INVENTORY" bosun.compose.run_job -e job=demo-backup -e project="$PROJECT" || rc=$?

step "5. The backups volume (${PROJECT}_backups), seen from a throwaway container"
docker run --rm --network none -v "${PROJECT}_backups:/backups:ro" "$IMAGE" \
  sh -c 'ls -l /backups; latest=$(ls /backups/*.tar 2>/dev/null | tail -n 1); [ -z "$latest" ] || { echo "--- $latest:"; tar -tvf "$latest"; }'

step "6. The stack is running again (same containers; db/starts.log has one line per start)"
compose ps
docker run --rm --network none -v "${PROJECT}_data:/data:ro" "$IMAGE" cat /data/starts.log

step "7. The hooks: maintenance mode on (pre) and off (finally) in the app; web was never touched"
docker exec "$(compose ps -q app)" cat /tmp/maintenance.log
if [[ "$(docker inspect -f '{{.State.StartedAt}}' "$(compose ps -q web)")" == "$web_started" ]]; then
  echo "web: still running since $web_started (outside the stop scope)"
else
  echo "demo: web was restarted although it is outside the stop scope" >&2
  rc=1
fi

if [[ $rc -ne 0 ]]; then
  echo "demo: the job failed (ansible-playbook rc=$rc); see the run report above" >&2
  exit "$rc"
fi
echo
echo "demo: done. Run it again to add another backup; remove it all with: docker compose -p $PROJECT -f $FILE down -v"
