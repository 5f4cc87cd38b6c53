#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The benchmark tables of docs/PERFORMANCE.md, from the raw run files of bench/run_peers.sh.

    python3 bench/perf_table.py RESULTS_DIR                      # print the tables
    python3 bench/perf_table.py --update docs/PERFORMANCE.md     # regenerate its sections

RESULTS_DIR holds run1.txt, run2.txt, ... (runN.first.txt, the lines a re-run replaced, are
skipped) and machine.txt. Two tables come out:
  * every line of every peer: medians over the runs, each run's ops/s, the spread, and the
    highest other_cpu_pct of the runs; a line whose other_cpu_pct exceeds --noisy (5) in any
    run is marked with a "*" (measured while other processes used the CPU);
  * the issue's targets per thread count: connpool against hikaricp (>= 2x ops/s at 2, 4, 8,
    32, 256 threads; p99 no worse at every count) and against naive (>= at 1 thread), with
    connpool_java (our Java binding) beside hikaricp.
With --update FILE, every section of FILE between <!-- perf-tables:begin DIR --> and
<!-- perf-tables:end --> is regenerated from the results folder DIR named in its marker
(relative to the repository root); nothing else in FILE changes. To show a new session, put its
folder in the marker and run --update again.
"""
import argparse
import glob
import os
import re
import statistics
import sys

FIELDS = ["ops_per_s", "p50_ns", "p99_ns", "p999_ns", "timeouts", "other_cpu_pct"]
SECTION = re.compile(r"(<!-- perf-tables:begin (\S+) -->\n).*?(<!-- perf-tables:end -->)", re.S)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(results_dir):
    paths = sorted(p for p in glob.glob(os.path.join(results_dir, "run[0-9]*.txt")) if not p.endswith(".first.txt"))
    if not paths:
        sys.exit(f"no run*.txt in {results_dir}")
    groups = {}  # (peer, threads) -> [fields per run], in order of first appearance
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.startswith("peer="):
                    continue
                kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
                groups.setdefault((kv["peer"], int(kv["threads"])), []).append(
                    {k: float(kv.get(k, 0)) for k in FIELDS})
    machine = {}
    mpath = os.path.join(results_dir, "machine.txt")
    if os.path.exists(mpath):
        with open(mpath, encoding="utf-8") as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    machine.setdefault(k, v)
    return paths, groups, machine


def med(runs, field):
    return statistics.median(r[field] for r in runs)


def mops(v):
    return f"{v / 1e6:.1f}"


def full_table(groups, noisy):
    out = ["| peer | threads | ops/s (M, median) | per run (M) | spread | p50 ns | p99 ns | p99.9 ns | timeouts | max other CPU |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (peer, threads), runs in groups.items():
        ops = [r["ops_per_s"] for r in runs]
        m = med(runs, "ops_per_s")
        spread = (max(ops) - min(ops)) / m * 100 if m else 0.0
        other = max(r["other_cpu_pct"] for r in runs)
        mark = "*" if other > noisy else ""
        out.append(f"| {peer}{mark} | {threads} | {mops(m)} | {' / '.join(mops(v) for v in ops)} | {spread:.0f}% | "
                   f"{med(runs, 'p50_ns'):.0f} | {med(runs, 'p99_ns'):.0f} | {med(runs, 'p999_ns'):.0f} | "
                   f"{sum(int(r['timeouts']) for r in runs)} | {other:.1f}% |")
    return "\n".join(out)


def targets_table(groups, noisy):
    def get(peer, t):
        return groups.get((peer, t))

    threads = sorted({t for (p, t) in groups if p == "connpool"})
    out = ["| threads | connpool M ops/s | hikaricp M ops/s | connpool / hikaricp | naive M ops/s | connpool / naive | "
           "p99 ns connpool / hikaricp | connpool_java M ops/s | connpool_java p99 ns | target met? |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for t in threads:
        c, h, n, j = get("connpool", t), get("hikaricp", t), get("naive", t), get("connpool_java", t)
        cm = med(c, "ops_per_s")
        cells, verdict = [], []
        hm = med(h, "ops_per_s") if h else None
        nm = med(n, "ops_per_s") if n else None
        cells.append(mops(hm) if h else "-")
        cells.append(f"{cm / hm:.2f}x" if h else "-")
        cells.append(mops(nm) if n else "-")
        cells.append(f"{cm / nm:.2f}x" if n else "-")
        cp99, hp99 = med(c, "p99_ns"), (med(h, "p99_ns") if h else None)
        cells.append(f"{cp99:.0f} / {hp99:.0f}" if h else "-")
        cells.append(mops(med(j, "ops_per_s")) if j else "-")
        cells.append(f"{med(j, 'p99_ns'):.0f}" if j else "-")
        if h and t >= 2:
            verdict.append("2x HikariCP: " + ("yes" if cm >= 2 * hm else f"no ({cm / hm:.2f}x)"))
        if n and t == 1:
            verdict.append(">= naive: " + ("yes" if cm >= nm else f"no ({cm / nm:.2f}x)"))
        if h:
            verdict.append("p99: " + ("yes" if cp99 <= hp99 else f"no (+{cp99 - hp99:.0f} ns)"))
        noisy_peers = [p for p, g in (("connpool", c), ("hikaricp", h), ("naive", n)) if g and
                       max(r["other_cpu_pct"] for r in g) > noisy]
        if noisy_peers:
            verdict.append("noisy: " + ", ".join(noisy_peers))
        out.append(f"| {t} | {mops(cm)} | " + " | ".join(cells) + f" | {'; '.join(verdict)} |")
    return "\n".join(out)


def render(results_dir, noisy, shown_as=None):
    paths, groups, machine = load(results_dir)
    head = [f"Runs: {', '.join(os.path.basename(p) for p in paths)} in `{shown_as or os.path.relpath(results_dir)}`"
            + (f", started {machine['date_utc']}" if "date_utc" in machine else "")
            + (f", libconnpool {machine['libconnpool'].split(' (/')[0]}" if "libconnpool" in machine else "")
            + f". Medians over the runs; `*`: other processes used more than {noisy:g}% of the CPU"
            " while the line was measured in at least one run (treat it as suspect)."
            " Generated by `bench/perf_table.py`."]
    return "\n\n".join(["\n".join(head), "Targets (pool of 10, no work between acquire and release):",
                        targets_table(groups, noisy), "Every line:", full_table(groups, noisy)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results_dir", nargs="?")
    ap.add_argument("--update", metavar="FILE")
    ap.add_argument("--noisy", type=float, default=5.0, help="other_cpu_pct above which a line is marked")
    a = ap.parse_args()
    if not a.update:
        if not a.results_dir:
            ap.error("give a results folder, or --update FILE")
        print(render(a.results_dir, a.noisy))
        return
    with open(a.update, encoding="utf-8") as f:
        doc = f.read()
    if not SECTION.search(doc):
        sys.exit(f"{a.update}: no <!-- perf-tables:begin DIR --> ... <!-- perf-tables:end --> section")
    doc = SECTION.sub(lambda m: m.group(1) + render(os.path.join(ROOT, m.group(2)), a.noisy, m.group(2)) + "\n"
                      + m.group(3), doc)
    with open(a.update, "w", encoding="utf-8") as f:
        f.write(doc)


if __name__ == "__main__":
    main()
