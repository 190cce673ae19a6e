#!/usr/bin/env bash
# ansible-test sanity on a real copy of the collection at build/sanity/ansible_collections/bosun/compose
# (ansible-test refuses symlinks and needs that path layout). Runs in --venv mode: --docker needs
# container images from a registry, which these machines cannot reach. Extra args go to ansible-test.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
DEST=$ROOT/build/sanity/ansible_collections/bosun/compose
t0=$SECONDS
cd "$ROOT"
# The copy is the collection under test: no farm pointing back at the work tree.
unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS

# The collection as git would ship it: tracked and untracked-but-not-ignored files, minus files that
# are tracked although .gitignore excludes them, minus tracked files deleted in the work tree.
files=$(mktemp)
trap 'rm -f "$files"' EXIT
comm -23 <(git ls-files -co --exclude-standard | sort -u) <(git ls-files -ci --exclude-standard | sort -u) |
  while IFS= read -r f; do [ -f "$f" ] || [ -L "$f" ] && printf '%s\n' "$f"; done >"$files"
rm -rf "$DEST"
mkdir -p "$DEST"
tar -C "$ROOT" -cf - --verbatim-files-from -T "$files" | tar -C "$DEST" -xf -

# Only empty ignore files are allowed: a sanity finding gets fixed, not ignored.
for f in "$DEST"/tests/sanity/ignore-*.txt; do
  [ -e "$f" ] || continue
  if [ -s "$f" ]; then echo "sanity: ${f#"$DEST"/} is not empty; fix the findings instead" >&2; exit 1; fi
done

# ansible-test lists files with git when it finds a repository above; the copy sits inside this
# (ignored) work tree, so give the copy a repository of its own or every target is skipped.
git -C "$DEST" init -q

pyver=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$DEST"
log=${SANITY_LOG:-$ROOT/build/sanity.log}
rc=0
"$VENV/bin/ansible-test" sanity --venv --python "$pyver" --color no "$@" 2>&1 | tee "$log" || rc=$?
# ansible-test only warns when a test's tool is missing (e.g. shellcheck): treat that as a failure.
if grep -q 'Required program .* not found' "$log"; then
  grep 'Required program' "$log" >&2; [ "$rc" -ne 0 ] || rc=1
fi
core=$("$VENV/bin/python" -c "import ansible.release as r; print(r.__version__)")
echo "[sanity] ansible-core $core, ansible-test sanity --venv --python $pyver $*: rc=$rc in $((SECONDS - t0)) s"
exit "$rc"
