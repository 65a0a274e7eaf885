#!/usr/bin/env bash
# Installs the pinned Node.js cassandra-driver from the npm registry (package-lock.json) into
# interop/node/node_modules, unless that exact version is already there.
# Usage: interop/node/setup.sh
set -euo pipefail
cd "$(dirname "$0")"
WANT="$(node -p "require('./package-lock.json').packages['node_modules/cassandra-driver'].version")"
HAVE="$(node -p "try { require('./node_modules/cassandra-driver/package.json').version } catch (e) { '' }")"
if [ "$WANT" != "$HAVE" ]; then
    npm ci --no-audit --no-fund --silent
fi
echo "cassandra-driver $WANT (Node.js $(node --version)) in interop/node/node_modules"
