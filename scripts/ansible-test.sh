#!/usr/bin/env bash
# ansible-test units / integration on a real copy of the collection at
# build/ansible-test/ansible_collections/bosun/compose (ansible-test refuses symlinks, needs that layout and a
# git repository). --venv mode: --docker needs container images from a registry these machines cannot reach.
#   scripts/ansible-test.sh units [args...]         -> ansible-test units --venv --python X.Y args...
#   scripts/ansible-test.sh integration [args...]   -> ansible-test integration --venv --python X.Y args...
# The integration targets run against the local Docker Engine (tests/integration/targets/*).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
DEST=$ROOT/build/ansible-test/ansible_collections/bosun/compose
cmd=${1:?usage: scripts/ansible-test.sh units|integration [ansible-test args]}
shift
t0=$SECONDS
cd "$ROOT"
unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS

# The collection as git would ship it (the same file list as scripts/sanity.sh).
files=$(mktemp)
trap 'rm -f "$files"' EXIT
comm -23 <(git ls-files -co --exclude-standard | sort -u) <(git ls-files -ci --exclude-standard | sort -u) |
  while IFS= read -r f; do [ -f "$f" ] || [ -L "$f" ] && printf '%s\n' "$f"; done >"$files"
rm -rf "$DEST"
mkdir -p "$DEST"
tar -C "$ROOT" -cf - --verbatim-files-from -T "$files" | tar -C "$DEST" -xf -
git -C "$DEST" init -q

pyver=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$DEST"
log=$ROOT/build/ansible-test-$cmd.log
rc=0
case $cmd in
  units) "$VENV/bin/ansible-test" units --venv --python "$pyver" --color no "$@" 2>&1 | tee "$log" || rc=$? ;;
  # The targets are "destructive" (they create stacks on the local engine): allow that. The modules run in
  # ansible-test's venv, which gets the Docker SDK from tests/integration/requirements.txt.
  integration)
    "$VENV/bin/ansible-test" integration --venv --python "$pyver" --color no --allow-destructive "$@" 2>&1 |
      tee "$log" || rc=$? ;;
  *) echo "scripts/ansible-test.sh: unknown command $cmd" >&2; exit 2 ;;
esac
# ansible-test exits 0 when it skipped every target or test: that is a failure here.
if grep -qE 'All targets skipped|No tests found' "$log"; then
  echo "[ansible-test] nothing ran" >&2; [ "$rc" -ne 0 ] || rc=1
fi
echo "[ansible-test] $cmd --venv --python $pyver: rc=$rc in $((SECONDS - t0)) s"
exit "$rc"
