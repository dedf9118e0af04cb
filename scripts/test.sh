#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds everything once and runs
# every test of the workspace, including the end-to-end tests against a real gonka-node.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$GONKA_ROOT"
gonka_build
# The worker's tests run the default model: fetch it (once; later runs only check it).
"$CARGO_TARGET_DIR/debug/gonka-worker" model fetch smollm2-135m --data-dir "$GONKA_MODEL_DIR"
# The Polkadot.js end-to-end tests' npm packages, exactly as locked (again only when the
# lock file changed since the last install).
gonka_npm_dir="$GONKA_ROOT/node/tests/polkadot-js"
if [ ! -f "$gonka_npm_dir/node_modules/.package-lock.json" ] ||
	[ "$gonka_npm_dir/package-lock.json" -nt "$gonka_npm_dir/node_modules/.package-lock.json" ]; then
	echo "==> npm ci in $gonka_npm_dir" >&2
	npm ci --prefix "$gonka_npm_dir" --no-audit --no-fund >&2
fi
gonka_test_log="$(mktemp)"
trap 'rm -f "$gonka_test_log"' EXIT
set +e
gonka_cargo test --workspace --locked "$@" 2>&1 | tee "$gonka_test_log"
gonka_status="${PIPESTATUS[0]}"
# The pallets' benchmarks run once each as tests, in their mock runtimes (no wasm needed).
for gonka_pallet in pallet-poc pallet-models pallet-inference pallet-rewards; do
	SKIP_WASM_BUILD=1 gonka_cargo test -p "$gonka_pallet" --features runtime-benchmarks --locked \
		"$@" 2>&1 | tee -a "$gonka_test_log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || gonka_status=1
done
set -e
# One closing line for the whole run: the sum over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i + 1) ~ /^passed/) p += $i; if ($(i + 1) ~ /^failed/) f += $i } }
	END { printf "%d passed, %d failed\n", p, f }' "$gonka_test_log"
exit "$gonka_status"
