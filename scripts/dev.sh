#!/usr/bin/env bash
# Starts a Gonka development chain on this machine: installs what is missing, builds the
# node and runs `gonka-node --dev` (relay-free, Alice and Bob collators, Alice sudo,
# funded dev accounts, one block every 3 s). Extra arguments go to the node, e.g.
#   scripts/dev.sh --dev-block-time 1000 --rpc-port 9944
# RPC (Polkadot.js Apps): ws://127.0.0.1:9944. Ctrl-C stops it. The chain lives in a
# temporary directory and is gone on exit, unless --base-path DIR is given.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
echo "==> building gonka-node (first build: see docs/build.md for times)" >&2
gonka_build
exec "$GONKA_NODE_BIN" --dev "$@"
