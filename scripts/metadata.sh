#!/usr/bin/env bash
# Rewrites client/metadata.scale from the runtime (the metadata gonka-client's code is
# generated from); runtime/tests/metadata.rs fails while the file and the runtime differ.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
GONKA_UPDATE_METADATA=1 gonka_cargo test --workspace --locked --test metadata
echo "==> client/metadata.scale ($(stat -c %s client/metadata.scale) bytes)"
