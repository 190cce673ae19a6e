#!/usr/bin/env bash
# Usage: scripts/tool-venv.sh NAME PYTHON PIP-REQUIREMENT...
# Prints the path of build/venv-NAME, a virtualenv holding exactly the given pins for PYTHON (an interpreter
# path, or X.Y to pick /root/.pyenv/versions/X.Y*/bin/pythonX.Y, then pythonX.Y on PATH). The venv is reused
# while its stamp (pins, interpreter, path) is unchanged; otherwise it is rebuilt from scratch.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
name=$1 py=$2
shift 2
if [[ $py =~ ^[0-9]+\.[0-9]+$ ]]; then
  cand=""
  for c in /root/.pyenv/versions/"$py".*/bin/python"$py" /usr/local/bin/python"$py" /usr/bin/python"$py"; do
    [ -x "$c" ] && { cand=$c; break; }
  done
  [ -n "$cand" ] || { echo "tool-venv: no Python $py found" >&2; exit 3; }
  py=$cand
fi
VENV=$ROOT/build/venv-$name
stamp=$VENV/.stamp
want="$py $VENV $*"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[tool-venv] creating $VENV ($py: $*)" >&2
  rm -rf "$VENV"
  "$py" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" >&2
  echo "$want" >"$stamp"
fi
echo "$VENV"
