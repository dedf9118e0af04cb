#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds everything once, checks the
# formatting and clippy's lints, and runs every test of the workspace (including the
# end-to-end tests against a real gonka-node) and the pallets' benchmarks as tests. Every
# step runs even after another failed; the last line sums them all, and the exit status is
# non-zero if any step failed. Extra arguments go to both `cargo test` runs.
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
# The official `openai` Python client, pinned, for the gateway's end-to-end test
# (node/tests/channels.rs), in a virtual environment shared by every clone (once).
gonka_openai_version="3.63.0"
gonka_openai_env="$HOME/.cache/gonka/python/openai"
if ! "$gonka_openai_env/bin/python" -c "import openai, sys; sys.exit(openai.__version__ != '$gonka_openai_version')" 2>/dev/null; then
	echo "==> installing openai==$gonka_openai_version in $gonka_openai_env" >&2
	python3 -m venv "$gonka_openai_env"
	"$gonka_openai_env/bin/pip" install --quiet "openai==$gonka_openai_version" >&2
fi
export GONKA_OPENAI_PYTHON="$gonka_openai_env/bin/python"
gonka_test_log="$(mktemp)"
trap 'rm -f "$gonka_test_log"' EXIT
gonka_failed_steps=()
set +e

echo "==> cargo fmt --check" >&2
gonka_cargo fmt --all --check || gonka_failed_steps+=("fmt")

# Clippy's lints on every crate and target, warnings denied. Check mode, in the build's own
# environment (no SKIP_WASM_BUILD): the build scripts' runs are shared with the build, and
# a wasm-building build script (frame's storage-access test runtime, ours) run with another
# environment would run again in the next build, and with it everything that depends on
# it, the whole node: 3.8 min, twice a run (docs/build.md).
echo "==> cargo clippy" >&2
gonka_cargo clippy --workspace --all-targets --locked -- -D warnings ||
	gonka_failed_steps+=("clippy")

# Every test binary of the workspace, even after a failure. The end-to-end binaries (the
# node's) wait on blocks far more than they compute, but the development chain's hosts
# serve PoC on fixed ports: the longest (`network.rs`, 5 s blocks) runs in a network
# namespace of its own (its own loopback) beside `cheaters.rs` and `devnet.rs` in another,
# which saves about 7 minutes a run; everything else runs after them, one at a time, as
# cargo would (the 1 s-block tests need the CPU to themselves; docs/build.md). Without
# namespaces (or with a test filter), cargo runs them all in turn.
gonka_run_tests() {
	local list pairs node_log failed=() package flag exe dir network_pid=""
	list="$(mktemp)"
	node_log="$(mktemp)"
	gonka_cargo test --workspace --locked --no-run --message-format=json-render-diagnostics |
		python3 "$GONKA_ROOT/scripts/test-binaries.py" >"$list" || failed+=("the test build")
	# One binary (`exe`, `dir`): from its package's directory, as cargo runs it; the node's
	# in a network namespace of its own.
	gonka_test_binary() {
		echo "     Running $2 ($3)"
		if [ "$1" = gonka-node ]; then
			(cd "$4" && unshare --net sh -c 'ip link set lo up && exec "$0"' "$3" </dev/null)
		else
			(cd "$4" && "$3" </dev/null)
		fi
	}
	pairs='^gonka-node	--test (cheaters|devnet)	'
	while IFS=$'\t' read -r package flag exe dir; do
		if [ "$flag" = "--test network" ] && [ "$package" = gonka-node ]; then
			gonka_test_binary "$package" "$flag" "$exe" "$dir" >"$node_log" 2>&1 &
			network_pid=$!
		fi
	done <"$list"
	# Beside it: the partners, then (once it ended) everything else.
	for pass in partners rest; do
		while IFS=$'\t' read -r package flag exe dir; do
			[ "$flag" = "--test network" ] && [ "$package" = gonka-node ] && continue
			if printf '%s\t%s\t' "$package" "$flag" | grep -Eq "$pairs"; then
				[ "$pass" = partners ] || continue
			else
				[ "$pass" = rest ] || continue
			fi
			gonka_test_binary "$package" "$flag" "$exe" "$dir" 2>&1 || failed+=("-p $package $flag")
		done <"$list"
		if [ "$pass" = partners ] && [ -n "$network_pid" ]; then
			wait "$network_pid" || failed+=("-p gonka-node --test network")
			cat "$node_log"
		fi
	done
	rm -f "$list" "$node_log"
	if [ "${#failed[@]}" -gt 0 ]; then
		echo "error: ${#failed[@]} targets failed:"
		printf '    `%s`\n' "${failed[@]}"
		return 1
	fi
}

echo "==> cargo test --workspace" >&2
if [ "$#" -eq 0 ] && unshare --net sh -c 'ip link set lo up' 2>/dev/null; then
	gonka_run_tests 2>&1 | tee "$gonka_test_log"
else
	gonka_cargo test --workspace --locked --no-fail-fast "$@" 2>&1 | tee "$gonka_test_log"
fi
[ "${PIPESTATUS[0]}" -eq 0 ] || gonka_failed_steps+=("tests")

# The worker tests that exist only in the cheating worker's build (its cheat modes, caught
# by the honest duties), run from that build's binaries, which gonka_build listed: through
# cargo they would relink target/debug/gonka-worker with the cheats.
echo "==> the worker's cheat tests (test-cheats)" >&2
(
	status=0
	[ -s "$GONKA_CHEAT_TESTS" ] || { echo "error: no cheat test binaries listed" && exit 1; }
	while IFS=$'\t' read -r package flag exe dir; do
		echo "     Running -p $package $flag ($exe)"
		output="$(cd "$dir" && "$exe" cheat </dev/null 2>&1)" || status=1
		echo "$output"
		# A stale list or a renamed test would run nothing: that fails too.
		echo "$output" | grep -Eq '^test result: ok\. [1-9]' || status=1
	done <"$GONKA_CHEAT_TESTS"
	exit "$status"
) 2>&1 | tee -a "$gonka_test_log"
[ "${PIPESTATUS[0]}" -eq 0 ] || gonka_failed_steps+=("cheat tests")

# The pallets' benchmarks, once each as tests in their mock runtimes (no wasm needed): one
# build for the five pallets under `runtime-benchmarks`, running only the benchmark tests
# (the pallets' other tests ran above; they are not counted twice).
echo "==> the pallets' benchmarks as tests" >&2
gonka_bench_filter=(-- benchmarking::)
[ "$#" -eq 0 ] || gonka_bench_filter=("$@")
SKIP_WASM_BUILD=1 gonka_cargo test --locked --no-fail-fast \
	-p pallet-poc -p pallet-models -p pallet-inference -p pallet-rewards -p pallet-channels \
	--features pallet-poc/runtime-benchmarks,pallet-models/runtime-benchmarks,pallet-inference/runtime-benchmarks,pallet-rewards/runtime-benchmarks,pallet-channels/runtime-benchmarks \
	"${gonka_bench_filter[@]}" 2>&1 | tee -a "$gonka_test_log"
[ "${PIPESTATUS[0]}" -eq 0 ] || gonka_failed_steps+=("benchmark tests")
set -e

# One closing line for the whole run: the sum over every test binary, the failed test
# binaries by name, and every step that failed.
awk -v steps="${gonka_failed_steps[*]}" '
	/^test result:/ {
		binaries++
		for (i = 1; i <= NF; i++) {
			if ($(i + 1) ~ /^passed/) p += $i
			if ($(i + 1) ~ /^failed/) f += $i
			if ($(i + 1) ~ /^ignored/) g += $i
		}
	}
	/^ +`.*`$/ { gsub(/`/, ""); sub(/^ +/, ""); failed_bins = failed_bins (failed_bins ? "; " : "") $0 }
	END {
		printf "%d passed, %d failed, %d ignored in %d test binaries", p, f, g, binaries
		if (failed_bins) printf "; failed binaries: %s", failed_bins
		if (steps) printf "; FAILED steps: %s\n", steps; else printf "; fmt, clippy and every test passed\n"
	}' "$gonka_test_log"
[ "${#gonka_failed_steps[@]}" -eq 0 ]
