#!/usr/bin/env bash
# ansible-test sanity on the second supported controller: the machine's own Python (Debian 12: 3.11) with the
# newest ansible-core pip offers for it (2.20+ needs Python >= 3.12). The main `make sanity` covers the dev venv
# (Python 3.12, ansible-core 2.21). The extra venv lives in build/ and is reused while the pin stays the same.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${SANITY_MATRIX_PYTHON:-/usr/bin/python3.11}
CORE=${SANITY_MATRIX_CORE:-2.19.14}
if [ ! -x "$PY" ]; then
  echo "[sanity-matrix] $PY not found: nothing to check beyond the main sanity run" >&2
  exit 0
fi
pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV=$ROOT/build/venv-sanity-py$pyver
if ! "$VENV/bin/python" -c "import ansible.release as r, sys; sys.exit(r.__version__ != '$CORE')" 2>/dev/null; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "ansible-core==$CORE"
fi
VENV=$VENV exec bash "$ROOT/scripts/sanity.sh" "$@"
