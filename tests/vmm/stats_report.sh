#!/bin/sh
# stats_report.sh: run the demo with --stats and --stats-json, check the table and the JSON, render the HTML report.
# usage: stats_report.sh HVX DEMO   (exit 77 when no backend here can run guests)
hvx=$1 demo=$2
dir=$(mktemp -d) || exit 1
"$hvx" run --backend emu --timeout 60 --no-input --stats --stats-json "$dir/s.json" "$demo" >"$dir/out" 2>"$dir/err" </dev/null
st=$?
cat "$dir/err"
if [ "$st" -eq 77 ]; then echo "SKIP: emu cannot run guests yet"; rm -rf "$dir"; exit 77; fi
fail() { echo "FAIL: $*"; rm -rf "$dir"; exit 1; }
[ "$st" -eq 0 ] || fail "demo exit status $st"
grep -q 'exit statistics' "$dir/err" || fail "no statistics table"
grep -Eq '^ +30 +IO +[0-9]+ +[0-9.]+% ' "$dir/err" || fail "no IO row in the table"
python3 - "$dir/s.json" <<'PY' || fail "bad JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "hvx-stats/1", d["schema"]
assert d["total_exits"] == sum(r["count"] for r in d["reasons"])
assert abs(sum(r["share"] for r in d["reasons"]) - 1.0) < 1e-3
for r in d["reasons"]:
    assert r["min_ns"] <= r["p50_ns"] <= r["p99_ns"] <= r["max_ns"], r
    assert sum(h[2] for h in r["histogram"]) == r["count"], r
assert sum(c for s in d["timeline"]["slots"] for _, c in s) == d["total_exits"]
assert any(r["name"] == "IO" for r in d["reasons"])
PY
"$hvx" stat "$dir/s.json" -o "$dir/r.html" || fail "hvx stat failed"
grep -q '<svg' "$dir/r.html" || fail "no SVG in the report"
grep -Eq 'src=|href="http|<script src|@import|url\(' "$dir/r.html" && fail "report references external resources"
python3 -c "import html.parser,sys; p=html.parser.HTMLParser(); p.feed(open(sys.argv[1]).read())" "$dir/r.html" || fail "HTML does not parse"
rm -rf "$dir"
echo "stats table, JSON and HTML report OK"
