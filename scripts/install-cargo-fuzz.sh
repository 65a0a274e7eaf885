#!/usr/bin/env bash
# Installs cargo-fuzz (needed for `cargo +nightly fuzz run <target>` in crates/cql-proto/fuzz).
# Idempotent: does nothing when cargo-fuzz is already installed.
set -euo pipefail

if cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz already installed: $(cargo fuzz --version)"
    exit 0
fi

cargo install cargo-fuzz --locked

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "note: cargo-fuzz needs a nightly toolchain: rustup toolchain install nightly" >&2
fi
echo "installed: $(cargo fuzz --version)"
