#!/usr/bin/env bash
# Spawns zombienet/gonka-local.toml and checks that the parachain produces and finalizes
# at least 5 blocks (zombienet/gonka-local.zndsl). Needs the relay chain binaries, which
# are not built by default (see docs/zombienet.md):
#   polkadot, polkadot-prepare-worker, polkadot-execute-worker   (cargo install polkadot --locked)
# and gonka-node (built here). Usage: zombienet/run.sh [--spawn]  (--spawn: keep it running)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../scripts/env.sh"

missing=()
for bin in polkadot polkadot-prepare-worker polkadot-execute-worker; do
	command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "zombienet: missing relay chain binaries on PATH: ${missing[*]}" >&2
	echo "  install them with: cargo install polkadot --locked   (hours on 2 cores)" >&2
	echo "  or put existing ones on PATH; see docs/zombienet.md" >&2
	exit 2
fi
command -v npx >/dev/null 2>&1 || { echo "zombienet: npx (Node.js) is missing: apt-get install nodejs npm" >&2; exit 2; }

gonka_build
export PATH="$(dirname "$GONKA_NODE_BIN"):$PATH"

zombienet=(npx --yes @zombienet/cli@1.3.138)
if [ "${1:-}" = "--spawn" ]; then
	exec "${zombienet[@]}" spawn "$here/gonka-local.toml" --provider native
fi
exec "${zombienet[@]}" test "$here/gonka-local.zndsl" --provider native
