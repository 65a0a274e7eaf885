#!/usr/bin/env bash
# Creates (or reuses) the interop virtualenv with a pinned Python cassandra-driver from PyPI.
# Usage: interop/python/setup.sh [VENV_DIR]   (default: target/interop-venv)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${1:-target/interop-venv}"
DRIVER_VERSION="3.29.2"
PYTHON="${PYTHON:-python3}"
# The pure-Python build installs in seconds where no wheel fits; a wheel is used when one does.
export CASS_DRIVER_NO_EXTENSIONS=1
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import cassandra, sys; sys.exit(cassandra.__version__ != '$DRIVER_VERSION')" 2>/dev/null; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "cassandra-driver==$DRIVER_VERSION"
fi
"$VENV/bin/python" -c "import cassandra; print('cassandra-driver', cassandra.__version__)"
