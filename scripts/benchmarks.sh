#!/usr/bin/env bash
# Regenerates the runtime's weight files from the pallets' benchmarks (v2), run on the
# runtime's wasm by `frame-omni-bencher`: `runtime/src/weights/<pallet>.rs`. Weights are
# never written by hand; docs/benchmarks.md reports them against the block limits.
#
#   scripts/benchmarks.sh               # every pallet of ours
#   scripts/benchmarks.sh pallet_poc    # one pallet
#
# With GONKA_BENCH_MEASURED=1 the proof sizes are the ones measured in the benchmarks
# (`--default-pov-mode measured`), not the `MaxEncodedLen` estimates, written to
# `runtime/tests/measured/<pallet>.rs` for comparison (never the runtime's weights; not
# committed).
#
# Steps and repeats: GONKA_BENCH_STEPS (default 50) and GONKA_BENCH_REPEAT (default 20),
# the SDK's usual values. A linear benchmark's setup grows with its parameter (up to
# MaxHosts hosts), so on 2 cores 50 × 20 takes about half an hour per linear benchmark;
# docs/benchmarks.md says which values produced the committed weights.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$GONKA_ROOT"

# The bencher, installed once outside the clone (a release build of ~35 min on 2 cores).
gonka_bencher_version="0.28.0"
gonka_tools="$HOME/.cache/gonka/tools"
gonka_bencher="$gonka_tools/bin/frame-omni-bencher"
if ! "$gonka_bencher" --version 2>/dev/null | grep -q "$gonka_bencher_version"; then
	echo "==> installing frame-omni-bencher $gonka_bencher_version" >&2
	CARGO_PROFILE_RELEASE_DEBUG=0 cargo install frame-omni-bencher \
		--version "$gonka_bencher_version" --locked --root "$gonka_tools"
fi

# The runtime's wasm with the benchmarks compiled in. `check --release`: only the wasm is
# needed, and its own directory (target/release/wbuild) so the dev build's wasm, which the
# node and the chain specs embed, is never overwritten by this variant.
gonka_cargo check --release --locked -p gonka-runtime --features runtime-benchmarks
gonka_wasm="$CARGO_TARGET_DIR/release/wbuild/gonka-runtime/gonka_runtime.compact.compressed.wasm"

pallets=("$@")
[ "${#pallets[@]}" -gt 0 ] || pallets=(pallet_poc pallet_models pallet_inference pallet_rewards pallet_channels)
pov_mode=()
for pallet in "${pallets[@]}"; do
	output="runtime/src/weights/$pallet.rs"
	if [ "${GONKA_BENCH_MEASURED:-0}" = 1 ]; then
		mkdir -p runtime/tests/measured
		output="runtime/tests/measured/$pallet.rs"
		pov_mode=(--default-pov-mode measured)
	fi
	"$gonka_bencher" v1 benchmark pallet \
		--runtime "$gonka_wasm" "${pov_mode[@]}" \
		--genesis-builder none \
		--pallet "$pallet" --extrinsic '*' \
		--steps "${GONKA_BENCH_STEPS:-50}" --repeat "${GONKA_BENCH_REPEAT:-20}" \
		--header scripts/weights-header.txt \
		--output "$output"
	# The runtime reaches FRAME through the `polkadot-sdk` umbrella crate.
	sed -i \
		-e 's/^use frame_support::/use polkadot_sdk::frame_support::/' \
		-e 's/impl<T: frame_system::Config>/impl<T: polkadot_sdk::frame_system::Config>/' \
		"$output"
	echo "==> $output" >&2
done
