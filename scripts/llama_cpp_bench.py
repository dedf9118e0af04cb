"""llama.cpp (through llama-cpp-python) on the same GGUF, the same prompt token ids and the
same thread count as `gonka-worker generate --json`: greedy decoding, prefill and decode
rates measured the same way (prompt tokens / prefill time; decode steps / decode time).

usage: llama_cpp_bench.py MODEL.gguf WORKER_JSON MAX_TOKENS THREADS
prints one JSON object: {completion_token_ids, prefill_tok_s, decode_tok_s, same_ids,
agreeing_ids} (agreeing_ids: how many leading completion tokens are the worker's)
"""
import json
import sys
import time

import llama_cpp
import numpy as np
from llama_cpp import Llama

model, worker_json, max_tokens, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
worker = json.load(open(worker_json))
prompt = worker["prompt_token_ids"]
END = {0, 2}  # <|endoftext|>, <|im_end|>

llm = Llama(model_path=model, n_ctx=512, n_batch=512, n_threads=threads,
            n_threads_batch=threads, verbose=False)
started = time.perf_counter()
llm.eval(prompt)
prefill = time.perf_counter() - started
completion = []
started = time.perf_counter()
steps = 0
vocab = llm.n_vocab()
for position in range(max_tokens):
    # The last evaluated position's logits (llama.cpp computes no others, as the worker).
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(vocab,))
    token = int(np.argmax(logits))
    if token in END:
        break
    completion.append(token)
    if position + 1 == max_tokens:
        break
    llm.eval([token])
    steps += 1
decode = time.perf_counter() - started
print(json.dumps({
    "completion_token_ids": completion,
    "prefill_tok_s": len(prompt) / prefill,
    "decode_tok_s": steps / decode if steps else 0.0,
    "same_ids": completion == worker["completion_token_ids"],
    "agreeing_ids": next((i for i, (a, b) in enumerate(zip(completion, worker["completion_token_ids"])) if a != b),
                         min(len(completion), len(worker["completion_token_ids"]))),
}))
