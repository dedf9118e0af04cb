#!/usr/bin/env bash
# zombienet/gonka-local.toml: a rococo-local relay chain (2 validators) and the Gonka
# parachain (`local_testnet`, 2 collators). Needs the relay chain binaries, which are not
# built by default (see docs/zombienet.md):
#   polkadot, polkadot-prepare-worker, polkadot-execute-worker   (cargo install polkadot --locked)
# and gonka-node and gonka-worker (built here).
#
#   zombienet/run.sh           spawn, check that the parachain produces and finalizes at
#                              least 5 blocks (gonka-local.zndsl), tear down
#   zombienet/run.sh --spawn   the whole network: the relay chain, the parachain, the two
#                              genesis hosts' workers (Alice and Bob) against the first
#                              collator (ws://127.0.0.1:9988), `gonka-worker watch` and a
#                              first inference, as scripts/dev.sh --zombienet; Ctrl-C stops
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

if [ "${1:-}" = "--spawn" ]; then
	exec "$here/../scripts/dev.sh" --zombienet
fi
gonka_build
export PATH="$(dirname "$GONKA_NODE_BIN"):$PATH"
exec "${GONKA_ZOMBIENET[@]}" test "$here/gonka-local.zndsl" --provider native
