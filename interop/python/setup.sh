#!/usr/bin/env bash
# Creates (or reuses) a virtualenv holding one pinned Python driver from PyPI.
# Usage: interop/python/setup.sh [cassandra|scylla]
#   cassandra: cassandra-driver (DataStax/Apache) in target/interop-venv
#   scylla:    scylla-driver (shard-aware fork, same `cassandra` module) in target/interop-venv-scylla
# Both install the module `cassandra`, hence one virtualenv each.
set -euo pipefail
cd "$(dirname "$0")/../.."
case "${1:-cassandra}" in
    cassandra) PACKAGE="cassandra-driver"; VERSION="3.29.2"; VENV="target/interop-venv" ;;
    scylla) PACKAGE="scylla-driver"; VERSION="3.29.12"; VENV="target/interop-venv-scylla" ;;
    *) echo "usage: $0 [cassandra|scylla]" >&2; exit 2 ;;
esac
# lz4 lets the scenario negotiate compressed frames (`--compression lz4`).
LZ4_VERSION="4.4.5"
PYTHON="${PYTHON:-python3}"
# Where no wheel fits, build the pure-Python driver (seconds) rather than the C extensions (minutes).
export CASS_DRIVER_NO_EXTENSIONS=1
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys
sys.exit(m.version('$PACKAGE') != '$VERSION' or m.version('lz4') != '$LZ4_VERSION')" 2>/dev/null; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$PACKAGE==$VERSION" "lz4==$LZ4_VERSION"
fi
echo "$PACKAGE $VERSION, lz4 $LZ4_VERSION in $VENV"
