#!/usr/bin/env bash
# The whole Gonka network on this machine, in one command: installs what is missing, builds,
# fetches the default model, then starts
#   - `gonka-node --dev` (relay-free, one block every 3 s, 16-block epochs; Polkadot.js Apps
#     connects to ws://127.0.0.1:9944),
#   - the workers of the two hosts of the `development` preset, Alice and Bob (worker keys
#     //Alice//stash and //Bob//stash, proofs served on 127.0.0.1:8400 and :8401, metrics on
#     127.0.0.1:9616 and :9617, SmolLM2-135M on CPU, one thread each),
#   - `gonka-worker watch`, which prints the network's progress: each epoch's phases, the
#     nonces each host commits and the PoC weight it is judged to, requests, validations,
#     votes and rewards,
#   - `gonka-worker gateway`, the developer's OpenAI-compatible API over inference
#     channels (http://127.0.0.1:8080/v1), funded by Dave's dev account,
# and sends a first inference request from Charlie's funded dev account once both workers
# follow the chain, printing its answer and cost, then the same question through the
# gateway once its channel is open. Ctrl-C stops everything.
#
#   scripts/dev.sh [--node-only | --zombienet] [NODE ARGS...]
#
# --node-only runs the chain alone, as before the workers existed. --zombienet runs, instead
# of `gonka-node --dev`, zombienet/gonka-local.toml: a rococo-local relay chain and the
# `local_testnet` parachain with two collators (RPC of the first on 127.0.0.1:9988), the
# same two hosts' workers against it (zombienet/run.sh --spawn checks the relay binaries
# first: docs/zombienet.md). NODE ARGS go to the dev node (e.g. --dev-block-time 6000).
# Environment:
#   GONKA_DEV_DIR       keep the chain, worker data and logs there (default: a temporary
#                       directory, deleted on exit);
#   GONKA_DEV_RPC_PORT  the node's RPC port (default 9944; 9988 with --zombienet, fixed
#                       in zombienet/gonka-local.toml);
#   GONKA_DEV_PROMPT    the first request's prompt;
#   GONKA_DEV_GATEWAY_PORT  the gateway's port (default 8080);
#   GONKA_DEV_PREBUILT  when 1, run the binaries already built (no cargo): the tests.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if [ "${GONKA_DEV_PREBUILT:-0}" != 1 ]; then
	echo "==> building gonka-node and gonka-worker (first build: see docs/build.md for times)" >&2
	gonka_build
fi
if [ "${1:-}" = "--node-only" ]; then
	shift
	exec "$GONKA_NODE_BIN" --dev "$@"
fi
zombienet=0
if [ "${1:-}" = "--zombienet" ]; then
	shift
	zombienet=1
fi

worker_bin="$CARGO_TARGET_DIR/debug/gonka-worker"
if [ "$zombienet" = 1 ]; then
	rpc_port=9988
else
	rpc_port="${GONKA_DEV_RPC_PORT:-9944}"
fi
node_url="ws://127.0.0.1:$rpc_port"
prompt="${GONKA_DEV_PROMPT:-What is the capital of France?}"
model="$("$worker_bin" model fetch smollm2-135m --data-dir "$GONKA_MODEL_DIR")"

if [ -n "${GONKA_DEV_DIR:-}" ]; then
	dir="$GONKA_DEV_DIR"
	mkdir -p "$dir"
	keep_dir=1
else
	dir="$(mktemp -d -t gonka-dev.XXXXXX)"
	keep_dir=0
fi

node_pid=""
other_pids=()
stopping=0
stop_all() {
	if [ "$stopping" = 1 ]; then return; fi
	stopping=1
	trap - INT TERM
	echo "==> stopping the workers and the node" >&2
	for pid in "${other_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	if [ -n "$node_pid" ]; then kill -INT "$node_pid" 2>/dev/null || true; fi
	# The node closes its database on SIGINT; give it a minute before forcing it.
	for _ in $(seq 600); do
		alive=0
		for pid in $node_pid "${other_pids[@]}"; do
			if kill -0 "$pid" 2>/dev/null; then alive=1; fi
		done
		if [ "$alive" = 0 ]; then break; fi
		sleep 0.1
	done
	for pid in $node_pid "${other_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "$keep_dir" = 0 ]; then
		rm -rf "$dir"
	else
		echo "==> chain, worker data and logs kept in $dir" >&2
	fi
	echo "==> stopped" >&2
}
trap stop_all EXIT
trap 'exit 130' INT TERM

if [ "$zombienet" = 1 ]; then
	echo "==> zombienet: rococo-local relay chain + the local_testnet parachain; RPC $node_url" \
		"(the first collator, Polkadot.js Apps), log $dir/node.log, nodes' logs in $dir/zombienet" >&2
	PATH="$(dirname "$GONKA_NODE_BIN"):$PATH" "${GONKA_ZOMBIENET[@]}" spawn \
		"$GONKA_ROOT/zombienet/gonka-local.toml" --provider native --dir "$dir/zombienet" \
		>"$dir/node.log" 2>&1 &
else
	echo "==> gonka-node --dev: RPC $node_url (Polkadot.js Apps), log $dir/node.log" >&2
	"$GONKA_NODE_BIN" --dev --base-path "$dir/node" --rpc-port "$rpc_port" --no-telemetry "$@" \
		>"$dir/node.log" 2>&1 &
fi
node_pid=$!

echo "==> waiting for the node's RPC (a debug node compiles its runtime first)" >&2
until (exec 3<>"/dev/tcp/127.0.0.1/$rpc_port") 2>/dev/null; do
	if ! kill -0 "$node_pid" 2>/dev/null; then
		echo "error: gonka-node exited; the end of $dir/node.log:" >&2
		tail -n 30 "$dir/node.log" >&2
		exit 1
	fi
	sleep 1
done

# A dev host's worker: `start_worker NAME SS58 PROOF_PORT METRICS_PORT`.
start_worker() {
	local name="$1" host="$2" proof_port="$3" metrics_port="$4"
	local data="$dir/$name"
	mkdir -p "$data"
	printf '//%s//stash\n' "${name^}" >"$data/worker.key"
	chmod 600 "$data/worker.key"
	# Six nonces per epoch: two CPU workers sharing two cores recompute each other's sample
	# within the dev chain's 4-block validation phase.
	cat >"$data/worker.toml" <<-EOF
		node = "$node_url"
		host = "$host"
		worker_key_file = "$data/worker.key"
		data_dir = "$data"
		model_id = 0
		model_file = "$model"
		threads = 1
		poc_listen = "127.0.0.1:$proof_port"
		poc_batch = 3
		poc_max_nonces = 6
		metrics_listen = "127.0.0.1:$metrics_port"
	EOF
	echo "==> $name's worker: proofs on :$proof_port, metrics http://127.0.0.1:$metrics_port/metrics, log $data/worker.log" >&2
	"$worker_bin" run --config "$data/worker.toml" >"$data/worker.log" 2>&1 &
	other_pids+=("$!")
}
start_worker alice 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY 8400 9616
start_worker bob 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty 8401 9617

"$worker_bin" watch --node "$node_url" --from 0 &
other_pids+=("$!")

# The developer's gateway (docs/developer.md), funded by Dave: it opens a channel of two
# slots, which Alice and Bob serve once the chain draws them.
gateway_port="${GONKA_DEV_GATEWAY_PORT:-8080}"
gateway_url="http://127.0.0.1:$gateway_port"
mkdir -p "$dir/gateway"
printf '//Dave\n' >"$dir/gateway/account.key"
chmod 600 "$dir/gateway/account.key"
cat >"$dir/gateway/gateway.toml" <<-EOF
	node = "$node_url"
	listen = "127.0.0.1:$gateway_port"
	data_dir = "$dir/gateway"
	account_key_file = "$dir/gateway/account.key"
	poll_ms = 1000

	[[models]]
	model_id = 0
	model_file = "$model"
	committee = 2
	duration = 300
	max_request_tokens = 2048
EOF
echo "==> gateway: $gateway_url/v1 (OpenAI-compatible; funded by dave), log $dir/gateway/gateway.log" >&2
"$worker_bin" gateway --config "$dir/gateway/gateway.toml" >"$dir/gateway/gateway.log" 2>&1 &
other_pids+=("$!")

# The first request once both workers follow the chain (each writes its journal then), so
# the drawn executor answers at once.
until [ -f "$dir/alice/inference-journal.json" ] && [ -f "$dir/bob/inference-journal.json" ]; do
	for pid in "${other_pids[@]:0:2}"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "error: a worker exited; see $dir/alice/worker.log and $dir/bob/worker.log" >&2
			exit 1
		fi
	done
	sleep 1
done
printf '//Charlie\n' >"$dir/developer.key"
echo "==> first inference from charlie: \"$prompt\"" >&2
if answer="$("$worker_bin" infer --node "$node_url" --account-key-file "$dir/developer.key" \
	--model smollm2-135m --prompt "$prompt" --max-tokens 32 2>"$dir/infer.log")"; then
	printf '==> answer:\n%s\n' "$answer"
else
	echo "error: the first inference failed:" >&2
	cat "$dir/infer.log" >&2
fi

# The same question through the gateway, once its channel is open: 503 until then (or no
# answer while it starts); anything else is final.
question="$(printf '%s' "$prompt" | tr '\n\t\r' '   ' | sed 's/\\/\\\\/g; s/"/\\"/g')"
chat="{\"model\": \"SmolLM2-135M-Instruct\", \"max_tokens\": 32, \"temperature\": 0,
	\"messages\": [{\"role\": \"user\", \"content\": \"$question\"}]}"
echo "==> first chat completion through the gateway (once its channel is open)" >&2
gateway_pid="${other_pids[-1]}"
status=000
for _ in $(seq 120); do
	if ! kill -0 "$gateway_pid" 2>/dev/null; then
		echo "error: the gateway exited; the end of $dir/gateway/gateway.log:" >&2
		tail -n 20 "$dir/gateway/gateway.log" >&2
		break
	fi
	status="$(curl -s --max-time 120 -o "$dir/gateway/first-answer.json" -w '%{http_code}' \
		-H 'Content-Type: application/json' -d "$chat" "$gateway_url/v1/chat/completions" ||
		true)"
	case "$status" in
	503 | 000) sleep 2 ;;
	*) break ;;
	esac
done
if [ "$status" = 200 ]; then
	# The answer's text: the JSON string after the first "content" (escapes as sent).
	printf '==> gateway answer: %s\n' "$(sed 's/"content":"/\n/' "$dir/gateway/first-answer.json" |
		sed -n '2{s/^\(\([^"\\]\|\\.\)*\)".*/\1/p}')"
else
	echo "error: the gateway's first answer: HTTP $status $(cat "$dir/gateway/first-answer.json" 2>/dev/null)" >&2
fi
echo "==> try it: curl -N $gateway_url/v1/chat/completions -H 'Content-Type: application/json' -d '{\"model\": \"SmolLM2-135M-Instruct\", \"stream\": true, \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}'" >&2
echo "==> the network runs on; Ctrl-C stops it" >&2

# Until Ctrl-C, or until the node stops by itself.
while kill -0 "$node_pid" 2>/dev/null; do
	sleep 1
done
echo "error: gonka-node exited; the end of $dir/node.log:" >&2
tail -n 30 "$dir/node.log" >&2
exit 1
