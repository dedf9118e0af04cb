#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds everything once and runs
# every test of the workspace, including the end-to-end tests against a real gonka-node.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$GONKA_ROOT"
gonka_build
gonka_cargo test --workspace --locked "$@"
