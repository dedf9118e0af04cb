#!/usr/bin/env bash
# Regenerates the committed plain chain specs in chain-specs/ from the runtime in this tree.
# `cargo test` (node/tests/chain_specs.rs) fails when they drift.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$GONKA_ROOT"

gonka_build
node_bin="$GONKA_NODE_BIN"
for chain in development local_testnet production; do
	"$node_bin" export-chain-spec --chain "$chain" --output "chain-specs/$chain.json"
done
