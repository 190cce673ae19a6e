#!/usr/bin/env bash
# ansible-test sanity on the controller versions the collection claims, besides the dev venv's (`make sanity`:
# ansible-core 2.21, the newest stable, on Python 3.12). docs/support-matrix.md states the result. Each entry is
# CORE-PIN PYTHON [ansible-test args]; each runs in its own venv under build/ (scripts/tool-venv.sh), reused while
# its pin stays the same. A Python that is missing fails the run: a version we cannot test is not claimed.
#   2.17.14 / 3.12   the floor in meta/runtime.yml (requires_ansible >= 2.17.0)
#   2.19.14 / 3.11   Debian 12's own Python (2.20 and later need Python >= 3.12)
#   2.22.0rc1 / 3.13 the next release (it needs Python >= 3.13 on the controller). pylint is skipped: ansible-test
#                    2.22 pins dill from a github.com archive, which these machines cannot reach.
# SANITY_MATRIX="2.17.14 3.12;..." replaces the list (';' between entries). Extra args go to every ansible-test run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MATRIX=${SANITY_MATRIX:-"2.17.14 3.12;2.19.14 /usr/bin/python3.11;2.22.0rc1 3.13 --skip-test pylint"}
t0=$SECONDS
rc=0
summary=()
IFS=';' read -ra entries <<<"$MATRIX"
for entry in "${entries[@]}"; do
  read -ra f <<<"$entry"
  core=${f[0]} py=${f[1]}
  t1=$SECONDS
  if ! venv=$(bash "$ROOT/scripts/tool-venv.sh" "core$core" "$py" "ansible-core==$core"); then
    summary+=("ansible-core $core (Python $py): FAILED to create its venv")
    rc=1
    continue
  fi
  erc=0
  VENV=$venv SANITY_LOG=$ROOT/build/sanity-$core.log bash "$ROOT/scripts/sanity.sh" "${f[@]:2}" "$@" || erc=$?
  pyver=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  summary+=("ansible-core $core, Python $pyver ${f[*]:2}: rc=$erc in $((SECONDS - t1)) s")
  [ "$erc" -eq 0 ] || rc=1
done
printf '[sanity-matrix] %s\n' "${summary[@]}"
echo "[sanity-matrix] rc=$rc in $((SECONDS - t0)) s"
exit "$rc"
