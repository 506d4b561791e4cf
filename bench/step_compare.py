"""step_compare.py: measures one performance step side by side: the emu backend of two builds (before, after) on the same workloads in interleaved rounds, printing a bench/perf-log.md table row per workload."""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the workload tags, engines and slope measurement of make bench)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--before", required=True, help="build directory of the step's parent commit")
    ap.add_argument("--after", required=True, help="build directory of the step")
    ap.add_argument("--workloads", default="alu,mem,callret,movsb,outloop,cpuidloop")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--target-seconds", type=float, default=0.5)
    ap.add_argument("--backend", default="emu")
    args = ap.parse_args()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    workloads = bench.parse_workloads()
    wls = [w for w in args.workloads.split(",") if w in workloads]
    sides = {"before": bench.HvxEngine(args.backend, os.path.abspath(args.before), 0),
             "after": bench.HvxEngine(args.backend, os.path.abspath(args.after), 0)}
    for name, e in sides.items():
        why = e.available()
        if why:
            sys.exit("%s: %s" % (name, why))
    # The same iteration counts on both sides, calibrated on the slower (before) build.
    counts = {wl: bench.calibrate(sides["before"], wl, args.target_seconds, log) for wl in wls}
    vals = {wl: {"before": [], "after": []} for wl in wls}
    for r in range(args.rounds):
        log("round %d/%d" % (r + 1, args.rounds))
        for wl in wls:
            for side in ("before", "after") if r % 2 == 0 else ("after", "before"):
                try:
                    v, _ = bench.measure_value(sides[side], wl, workloads[wl], *counts[wl])
                    vals[wl][side].append(v)
                except bench.NoisyRound:
                    pass
    print("| workload | unit | before (median, min–max) | after (median, min–max) | after / before |")
    print("|---|---|---|---|---|")
    for wl in wls:
        b, a = vals[wl]["before"], vals[wl]["after"]
        if not b or not a:
            continue
        unit = bench.UNITS[workloads[wl]["metric"]]
        mb, ma = statistics.median(b), statistics.median(a)
        print("| %s | %s | %s (%s–%s) | %s (%s–%s) | %.3g× |" % (
            wl, unit, bench.fmt(mb, workloads[wl]["metric"]), bench.fmt(min(b), workloads[wl]["metric"]),
            bench.fmt(max(b), workloads[wl]["metric"]), bench.fmt(ma, workloads[wl]["metric"]),
            bench.fmt(min(a), workloads[wl]["metric"]), bench.fmt(max(a), workloads[wl]["metric"]), ma / mb))


if __name__ == "__main__":
    main()
