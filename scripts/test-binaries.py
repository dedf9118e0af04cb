#!/usr/bin/env python3
"""Reads cargo's JSON messages (`cargo test --no-run --message-format=json-render-diagnostics`)
on stdin and prints each test binary, in cargo's order, as
`package<TAB>rerun-flag<TAB>executable<TAB>package-dir` (the rerun flag as cargo names it:
`--lib`, `--bin NAME`, `--test NAME`)."""
import json
import os
import sys

for line in sys.stdin:
    if not line.startswith("{"):
        continue
    message = json.loads(line)
    if message.get("reason") != "compiler-artifact" or not message.get("executable"):
        continue
    if not message.get("profile", {}).get("test"):
        continue
    target = message["target"]
    kind = target["kind"][0]
    flag = "--lib" if kind in ("lib", "rlib", "proc-macro") else f"--{kind} {target['name']}"
    # `path+file:///dir#name@version`, or `path+file:///dir/name#version` when the
    # directory is named after the package.
    url, _, fragment = message["package_id"].rpartition("#")
    name = fragment.split("@", 1)[0] if "@" in fragment else os.path.basename(url)
    directory = os.path.dirname(message["manifest_path"])
    print(f"{name}\t{flag}\t{message['executable']}\t{directory}")
