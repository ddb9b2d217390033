#!/usr/bin/env python3
"""Do our peers measure what the reference peers measure? A maintainer's
check, for those who have the reference programs the workloads were first
written as (they are not part of this repository).

    python3 benchmarks/peers/agreement.py RESULTS_JSON REF_RAW_TSV [TABLES_MD]

RESULTS_JSON  benchmarks/run.sh's results.json (our peers, this machine)
REF_RAW_TSV   the raw rows of the reference peers run on the same machine
              just before or after (their run_all.sh with RAW=FILE)
TABLES_MD     optional: the reference medians published with them

Prints one Markdown row per figure: our peer's median, the reference peer's
median from the same session, their ratio, and the published figure. A
ratio outside 0.67-1.5 is marked, as more than the noise of this machine.
"""

import json
import re
import statistics
import sys
from collections import defaultdict

# The reference's configurations, as (implementation, threads).
CONFIGS = {
    ("beam", "S1"): ("beam", 1), ("beam", "S2"): ("beam", 2),
    ("caf", "1t"): ("caf", 1), ("caf", "2t"): ("caf", 2),
    ("go", "P1"): ("go", 1), ("go", "P2"): ("go", 2),
    ("asio", "st"): ("asio", 1), ("asio", "cc2"): ("asio", 2),
    ("naive", "1t"): ("naive", 1), ("naive", "2t"): ("naive", 2),
}
# The published table's rows and columns.
ROWS = {
    "W1 skynet 1M leaves (time)": "w1_ms",
    "W1 skynet peak RSS (whole process)": "w1_rss_mb",
    "W2 ping-pong (per round trip)": "w2_ns_per_rt",
    "W3 ring 10k: setup": "w3_setup_ms",
    "W3 ring 10k: per hop": "w3_ns_per_hop",
    "W4 spawn+exit+notify (per process)": "w4_ns_per_spawn",
    "W5 call round trip": "w5_ns_per_call",
    "W6 register 100k keys (per key, incl. spawn)": "w6_register_ns_each",
    "W6 lookups (10M, 2 tasks/threads)": "w6_lookups_per_s",
    "W6 register+unregister churn (1M, 2 tasks)": "w6_churn_per_s",
    "W7 crash->restart->answer, 10k cycles, no logging": "w7_us_per_cycle",
    "W7 same, first 1k cycles only": "w7_first1k_us_per_cycle",
    "W7 failed calls per cycle (no logging)": "w7_retries_per_cycle",
    "W8 fan-in 1000x10k -> 1": "w8_msgs_per_s",
}
COLUMNS = {
    "BEAM +S 1": ("beam", 1), "BEAM +S 2": ("beam", 2), "CAF 1 thr": ("caf", 1), "CAF 2 thr": ("caf", 2),
    "Go P=1": ("go", 1), "Go P=2": ("go", 2), "Asio chan 1 thr": ("asio", 1), "Asio cchan 2 thr": ("asio", 2),
    "C++ naive 1 thr": ("naive", 1), "C++ naive 2 thr": ("naive", 2),
}
SCALE = {("µs", "ns"): 1e3, ("ms", "ns"): 1e6, ("ms", "us"): 1e3, ("M/s", ""): 1e6}


def published(path, units):
    """{(metric, impl, threads): value in our unit} from the reference's tables.md."""
    out, header = {}, None
    for line in open(path, encoding="utf-8"):
        if line.startswith("### Spread"):
            break  # only the first (medians) table
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == "workload":
            header = cells
            continue
        if header is None or cells[0] not in ROWS:
            continue
        metric = ROWS[cells[0]]
        for name, text in zip(header[1:], cells[1:]):
            m = re.fullmatch(r"([\d.]+)\s*(\S*)", text)
            if name not in COLUMNS or not m:
                continue
            value, unit = float(m.group(1)), m.group(2)
            ours = units.get(metric, "")
            scale = SCALE.get((unit, ours), SCALE.get((unit, ""), 1.0)) if unit != ours else 1.0
            out[(metric,) + COLUMNS[name]] = value * scale
    return out


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    results = json.load(open(sys.argv[1], encoding="utf-8"))
    ours = {(m["metric"], m["impl"], m["threads"]): m["value"] for m in results["medians"] if m["impl"] != "otp"}
    units = {m["metric"]: m["unit"] for m in results["medians"]}
    ref = defaultdict(list)
    for line in open(sys.argv[2], encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        if len(f) < 8 or (f[1], f[2]) not in CONFIGS:
            continue
        impl, t = CONFIGS[(f[1], f[2])]
        ref[(f[5], impl, t)].append(float(f[6]))
        if f[5] == "w1_ms" and len(f) > 8 and f[8].isdigit():
            ref[("w1_rss_mb", impl, t)].append(int(f[8]) / 1024)
    ref = {k: statistics.median(v) for k, v in ref.items()}
    table = published(sys.argv[3], units) if len(sys.argv) == 4 else {}

    print("| figure | peer | ours | reference, same session | ours / reference | published |")
    print("|---|---|---|---|---|---|")
    off = 0
    for key in sorted(set(ours) & set(ref), key=lambda k: (k[1], k[2], k[0])):
        metric, impl, t = key
        r = ours[key] / ref[key] if ref[key] else float("nan")
        flag = "" if 0.67 <= r <= 1.5 else " **outside**"
        off += bool(flag)
        pub = table.get(key)
        print(f"| {metric} | {impl} {t} thr | {ours[key]:.4g} | {ref[key]:.4g} | {r:.2f}{flag} | "
              f"{'-' if pub is None else f'{pub:.4g}'} |")
    print(f"\n{off} of {len(set(ours) & set(ref))} figures differ from the reference by more than 0.67-1.5x.")


if __name__ == "__main__":
    main()
