#!/bin/sh
# json_valid.sh: run a command that prints JSON; fail unless it exits 0, python3 -m json.tool accepts it and CHECK holds.
# usage: json_valid.sh CHECK COMMAND [ARGS...]   (CHECK: a Python expression over the parsed document `d`, e.g. True)
check=$1
shift
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
"$@" >"$out" || { echo "command failed: $*" >&2; exit 1; }
python3 -m json.tool "$out" >/dev/null || { echo "invalid JSON from: $*" >&2; cat "$out" >&2; exit 1; }
python3 -c 'import json, sys
d = json.load(open(sys.argv[2]))
ok = eval(sys.argv[1])
print("check", "holds" if ok else "FAILED", ":", sys.argv[1])
sys.exit(0 if ok else 1)' "$check" "$out"
