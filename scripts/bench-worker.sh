#!/usr/bin/env bash
# The worker's model runtime against llama.cpp on the same GGUF, in one run
# (docs/benchmarks.md): release build of gonka-worker, llama-cpp-python built from source
# in a venv under ~/.cache/gonka (once: 9 min on 2 cores; the cold release build of the
# worker 13.5 min), the same prompt token ids,
# greedy decoding, the same thread count; and the machine's memory read bandwidth with that
# many threads (scripts/membw.c), the bound of decode. Prints a Markdown table.
#   scripts/bench-worker.sh [MAX_TOKENS] [THREADS]
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$GONKA_ROOT"
max_tokens="${1:-128}"
threads="${2:-$(nproc)}"
prompt="Tell me about the history of bread."

gonka_cargo build --release --locked -p gonka-worker
worker="$CARGO_TARGET_DIR/release/gonka-worker"
model="$("$worker" model fetch smollm2-135m --data-dir "$GONKA_MODEL_DIR")"

venv="$HOME/.cache/gonka/llama-venv"
if ! "$venv/bin/python" -c "import llama_cpp" 2>/dev/null; then
	python3 -m venv "$venv"
	"$venv/bin/pip" install --no-binary llama-cpp-python llama-cpp-python >&2
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# The memory-bandwidth bound of decode, measured in the same run.
cc -O2 -fopenmp "$GONKA_ROOT/scripts/membw.c" -o "$out/membw"
bandwidth="$("$out/membw" "$threads" 2>/dev/null)"
"$worker" generate --model "$model" --prompt "$prompt" --max-tokens "$max_tokens" \
	--threads "$threads" --json >"$out/worker.json" 2>/dev/null
"$venv/bin/python" "$GONKA_ROOT/scripts/llama_cpp_bench.py" "$model" "$out/worker.json" \
	"$max_tokens" "$threads" >"$out/llama.json"
python3 - "$out/worker.json" "$out/llama.json" "$threads" "$max_tokens" "$bandwidth" "$(stat -c %s "$model")" <<'PY'
import json, sys
worker, llama = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bandwidth, size = float(sys.argv[5]), int(sys.argv[6])
print(f"threads {sys.argv[3]}, up to {sys.argv[4]} tokens, greedy; "
      f"{len(worker['prompt_token_ids'])} prompt tokens, "
      f"{len(worker['completion_token_ids'])} completion tokens; same greedy ids: {llama['same_ids']} "
      f"(the first {llama['agreeing_ids']} agree)")
print(f"memory read bandwidth {bandwidth} GB/s with {sys.argv[3]} threads: decode bound "
      f"{bandwidth * 1e9 / size:.0f} tok/s (every weight of the {size / 1e6:.1f} MB file once per token)")
print("| runtime | prefill tok/s | decode tok/s |")
print("|---|---|---|")
print(f"| gonka-worker | {worker['prefill_tok_s']:.1f} | {worker['decode_tok_s']:.1f} |")
print(f"| llama.cpp (llama-cpp-python) | {llama['prefill_tok_s']:.1f} | {llama['decode_tok_s']:.1f} |")
print(f"| ratio | {worker['prefill_tok_s'] / llama['prefill_tok_s']:.2f}x | {worker['decode_tok_s'] / llama['decode_tok_s']:.2f}x |")
PY
