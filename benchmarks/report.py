#!/usr/bin/env python3
"""Turns the raw rows of benchmarks/run.sh into results.md, results.json and
chart.svg, in the same folder.

    python3 benchmarks/report.py DIR

DIR holds raw.tsv (round, workload, impl, threads, metric, value, unit),
probe.tsv (round, workload, 2-thread speedup of the CPU probe) and env.txt.
Every figure is the median of its runs. A ratio says how many times better
otp is than the peer (above 1: otp is faster, or smaller); the Python
standard library only, so it runs wherever run.sh does.
"""

import json
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path

IMPLS = ["otp", "beam", "go", "caf", "asio", "naive"]
NAMES = {"otp": "otp", "beam": "BEAM", "go": "Go", "caf": "CAF", "asio": "Asio", "naive": "C++ naive"}
COLORS = {"otp": "#1f4e9c", "beam": "#8e44ad", "go": "#17a2b8", "caf": "#e67e22", "asio": "#7f8c8d", "naive": "#a0522d"}
CONFIGS = {  # what each implementation is at 1 and at 2 threads
    1: "BEAM `+S 1`, `GOMAXPROCS=1`, CAF `max-threads=1`, Asio `experimental::channel` on 1 thread",
    2: "BEAM `+S 2`, `GOMAXPROCS=2`, CAF `max-threads=2`, Asio `concurrent_channel` on 2 threads",
}


class Metric:
    """A figure: its label, whether more is better, and how the chart turns
    it into nanoseconds per operation (None: not charted)."""

    def __init__(self, label, higher=False, to_ns=None, ratio=True, chart=None, threads=(1, 2)):
        self.label, self.higher, self.to_ns, self.ratio = label, higher, to_ns, ratio
        self.chart = chart or label
        self.threads = threads  # the tables it appears in


def _per_s(v):
    return 1e9 / v if v else None


def catalogue(n, w10_n):
    """The metrics in table order; n is W9's child count, w10_n W10's workers."""
    return {
        "w1_ms": Metric("W1 skynet, 1M leaves", to_ns=lambda v: v * 1e6 / 1e6, chart="W1 skynet, per leaf"),
        "w1_rss_mb": Metric("W1 peak RSS"),
        "w2_ns_per_rt": Metric("W2 ping-pong, per round trip", to_ns=lambda v: v),
        "w3_setup_ms": Metric("W3 ring of 10k: setup"),
        "w3_ns_per_hop": Metric("W3 ring of 10k: per hop", to_ns=lambda v: v),
        "w4_ns_per_spawn": Metric("W4 spawn + monitor + down", to_ns=lambda v: v),
        "w5_ns_per_call": Metric("W5 call", to_ns=lambda v: v),
        "w6_register_ns_each": Metric("W6 register (with spawn)", to_ns=lambda v: v),
        "w6_lookups_per_s": Metric("W6 lookups, 2 workers", higher=True, to_ns=_per_s),
        "w6_churn_per_s": Metric("W6 register+unregister", higher=True, to_ns=_per_s),
        "w7_us_per_cycle": Metric("W7 crash, restart, answer", to_ns=lambda v: v * 1e3),
        "w7_first1k_us_per_cycle": Metric("W7 first 1k cycles"),
        "w7_retries_per_cycle": Metric("W7 failed calls per cycle", ratio=False),
        "w8_msgs_per_s": Metric("W8 fan-in 1000 -> 1", higher=True, to_ns=_per_s),
        f"w9_start_ns_per_child_n{n}": Metric(f"W9 start_child, {n // 1000}k children", to_ns=lambda v: v),
        f"w9_shutdown_ns_per_child_n{n}": Metric(f"W9 shutdown, {n // 1000}k children, per child", to_ns=lambda v: v),
        "w9_start_ns_per_child_n1000": Metric("W9 start_child, 1k children"),
        "w9_shutdown_ns_per_child_n1000": Metric("W9 shutdown, 1k children, per child"),
        "w9_restart_us_per_cycle": Metric("W9 crash, restart, init notifies", to_ns=lambda v: v * 1e3),
        "w10_ms": Metric(f"W10 unbalanced, {w10_n / 1000:g}k workers x 10 slices",
                         to_ns=lambda v: v * 1e6 / (w10_n * 10), chart="W10 unbalanced, per slice"),
        "w10_moved": Metric("W10 workers moved by stealing", ratio=False, threads=(2,)),
        "w11_echo_rps": Metric("W11 echo, 64 connections", higher=True, to_ns=_per_s, chart="W11 echo, 1/throughput"),
        "w11_echo_p99_us": Metric("W11 echo, p99 latency", to_ns=lambda v: v * 1e3),
        "w11_todo_rps": Metric("W11 to-do HTTP (wrk), 64 connections", higher=True),
        "w11_todo_p99_us": Metric("W11 to-do HTTP, p99 latency"),
    }


MICRO = {
    "m_send_ns": "send",
    "m_receive_ns": "receive",
    "m_spawn_ns": "spawn (to its end)",
    "m_link_ns": "link",
    "m_monitor_ns": "monitor",
    "m_lookup_ns": "registry lookup",
    "m_call_ns": "call",
}


def fmt(v, unit):
    if unit == "ns" and v >= 1e4:
        return f"{v / 1e3:.1f} µs"
    if unit == "us" and v >= 1e3:
        return f"{v / 1e3:.1f} ms"
    if unit == "us":
        return f"{v:.1f} µs"
    if unit.endswith("/s"):
        return f"{v / 1e6:.2f} M/s" if v >= 1e6 else f"{v / 1e3:.1f} k/s"
    if not unit:
        return f"{v:.1f}"
    if unit == "processes":
        return f"{v:.0f}"
    return (f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}") + f" {unit}"


def ratio(ours, theirs, higher):
    if not ours or not theirs:
        return None
    return ours / theirs if higher else theirs / ours


def load(folder):
    runs, units = defaultdict(list), {}
    for line in (folder / "raw.tsv").read_text().splitlines():
        rnd, w, impl, t, metric, value, unit = (line.split("\t") + [""])[:7]
        runs[(w, impl, int(t), metric)].append(float(value))
        units[metric] = unit
    probes = defaultdict(list)
    probe_file = folder / "probe.tsv"
    if probe_file.exists():
        for line in probe_file.read_text().splitlines():
            rnd, w, value = line.split("\t")
            probes[w].append(float(value))
    env = {}
    env_file = folder / "env.txt"
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            k, _, v = line.partition(": ")
            env[k] = v
    return runs, units, probes, env


def cell(med, units, metric, w, impl, t, m):
    v = med.get((w, impl, t, metric))
    if v is None:
        return "-"
    text = fmt(v, units[metric])
    if impl == "otp" or not m.ratio:
        return f"**{text}**" if impl == "otp" else text
    r = ratio(med.get((w, "otp", t, metric)), v, m.higher)
    return text if r is None else f"{text} · {r:.2f}x" if r < 10 else f"{text} · {r:.1f}x"


def workload_of(metric):
    return metric.split("_", 1)[0]


def table(med, units, cat, probes, t):
    present = [i for i in IMPLS if any(k[1] == i and k[2] == t and k[0] != "micro" for k in med)]
    head = ["workload"] + [NAMES[i] for i in present] + (["CPU probe"] if t == 2 else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for metric, m in cat.items():
        w = workload_of(metric)
        if t not in m.threads or not any((w, i, t, metric) in med for i in present):
            continue
        row = [m.label] + [cell(med, units, metric, w, i, t, m) for i in present]
        if t == 2:
            p = probes.get(w, [])
            row.append(f"{statistics.median(p):.2f}x ({min(p):.2f}-{max(p):.2f})" if p else "-")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def w10_table(med, runs, probes):
    """Time on 1 thread, on 2, and their ratio (of the medians, then round by
    round, in the order of the runs), for each implementation."""
    rows = []
    for i in IMPLS:
        one, two = med.get(("w10", i, 1, "w10_ms")), med.get(("w10", i, 2, "w10_ms"))
        if one is None and two is None:
            continue
        speedup = f"{one / two:.2f}x" if one and two else "-"
        rounds = ", ".join(f"{a / b:.2f}" for a, b in zip(runs.get(("w10", i, 1, "w10_ms"), []),
                                                          runs.get(("w10", i, 2, "w10_ms"), [])) if b)
        name = f"**{NAMES[i]}**" if i == "otp" else NAMES[i]
        rows.append(f"| {name} | {fmt(one, 'ms') if one else '-'} | {fmt(two, 'ms') if two else '-'} | {speedup} | {rounds or '-'} |")
    if not rows:
        return []
    p = probes.get("w10", [])
    probe = f"{statistics.median(p):.2f}x (by round: {', '.join(f'{v:.2f}' for v in p)})" if p else "-"
    return (["| W10 | 1 thread | 2 threads | speed-up | by round |", "|---|---|---|---|---|"] + rows +
            ["", f"CPU probe before W10 on 2 threads: {probe}."])


def w11_load_table(med):
    """The echo load generator's CPU use beside each server's figure."""
    cells = {(i, t): med.get(("w11", i, t, "w11_echo_load_cpu_pct")) for i in IMPLS for t in (1, 2)}
    present = [i for i in IMPLS if any(cells[(i, t)] is not None for t in (1, 2))]
    if not present:
        return []
    lines = ["The load generator's own CPU use while it measured (percent of its core): near 100%, the generator",
             "was the bottleneck, and that server's requests/s are a floor, not its limit.", "",
             "| echo_load CPU | " + " | ".join(NAMES[i] for i in present) + " |", "|---|" + "---|" * len(present)]
    for t in (1, 2):
        row = [f"{cells[(i, t)]:.0f}%" if cells[(i, t)] is not None else "-" for i in present]
        lines.append(f"| {t} server thread{'s' if t > 1 else ''} | " + " | ".join(row) + " |")
    return lines + [""]


def micro_table(med, units):
    present = [i for i in IMPLS if any(k[0] == "micro" and k[1] == i for k in med)]
    head = ["operation"] + [NAMES[i] for i in present]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    m = Metric("")
    for metric, label in MICRO.items():
        if not any(("micro", i, 1, metric) in med for i in present):
            continue
        lines.append("| " + " | ".join([label] + [cell(med, units, metric, "micro", i, 1, m) for i in present]) + " |")
    return lines


READING = """\
How to read these numbers. They come from one run of `benchmarks/run.sh` on
the machine named below, which has 2 cores and is shared with other work, so
absolute times move from run to run (by tens of percent for some peers).
What counts is the ratio within one run: every column was measured in the
same rounds, interleaved, so load on the machine touches all of them alike.
Each figure is the median of the runs; a peer's cell gives its figure and
how many times better otp is (above 1x: otp is faster or smaller; below 1x:
the peer wins). The 2-thread figures are only as parallel as the machine
let them be: the CPU probe beside them reads 2.0x when the second core was
free and 1.0x when something else was using it."""

W10_NOTE = """\
The 2-thread speed-up of each implementation: its W10 time on 1 thread over
its time on 2 (2.00x is perfect), beside the CPU probe, which says how much
of the second core was there to be had."""

W11_NOTE = """\
How W11 is pinned (benchmarks/w11.sh): with 1 server thread the server runs
on CPU 0 and the load generator (echo_load, or wrk for the to-do server) on
CPU 1; with 2 server threads the server runs on CPUs 0 and 1 and the
generator still on CPU 1. A 2-core machine has no third core, so at 2
threads the generator takes part of one of the server's cores: 2-thread
figures are a lower bound, and a server that needs less CPU per request
leaves more of that core to the generator. BEAM `+S T`, `GOMAXPROCS=T`,
Asio and otp with T threads."""


def markdown(med, raw, units, cat, probes, env, runs, sums):
    out = ["# otp against BEAM, Go, CAF and raw Asio", "", READING, ""]
    out += [f"Machine: {env.get('cpu', '?')}, kernel {env.get('kernel', '?')}; {env.get('date', '')}.",
            "Versions: " + "; ".join(f"{k} {env[k]}" for k in ("otp", "erlang", "elixir", "go", "caf", "asio") if k in env) + ".",
            f"Runs per cell: {runs}.", ""]
    for t in (1, 2):
        if any(k[2] == t and k[0] != "micro" for k in med):
            out += [f"## Workloads, {t} thread{'s' if t > 1 else ''}", "", f"{CONFIGS[t]}.", ""]
            out += table(med, units, cat, probes, t) + [""]
    w10 = w10_table(med, raw, probes)
    if w10:
        out += ["## W10: 2-thread speed-up", "", W10_NOTE, ""] + w10 + [""]
    if any(k[0] == "w11" for k in med):
        out += ["## W11: how the servers were pinned", "", W11_NOTE, ""] + w11_load_table(med)
    if any(k[0] == "micro" for k in med):
        out += ["## One operation, one thread", "",
                "What a single operation costs, measured by one process (benchmarks/peers/README.md says how each is "
                "timed). Each peer's cell is that runtime's own way of doing the same thing, and the ratio is against otp.",
                ""] + micro_table(med, units) + [""]
    if sums:
        out.append("W1 sum check (499999500000): " + ("correct in every run." if sums == {499999500000.0} else f"WRONG: {sorted(sums)}"))
    out += ["", "![cost per operation](chart.svg)", ""]
    return "\n".join(out)


def chart(med, cat):
    """Horizontal bars of nanoseconds per operation on one log axis: a panel
    for each thread count and one for the micro-operations."""
    panels = []
    for t in (1, 2):
        rows = []
        for metric, m in cat.items():
            if m.to_ns is None:
                continue
            w = workload_of(metric)
            bars = [(i, m.to_ns(med[(w, i, t, metric)])) for i in IMPLS if (w, i, t, metric) in med]
            bars = [(i, v) for i, v in bars if v]
            if bars:
                rows.append((m.chart, bars))
        if rows:
            panels.append((f"Workloads, {t} thread{'s' if t > 1 else ''}", rows))
    rows = []
    for metric, label in MICRO.items():
        bars = [(i, med[("micro", i, 1, metric)]) for i in IMPLS if ("micro", i, 1, metric) in med]
        if bars:
            rows.append((label, bars))
    if rows:
        panels.append(("One operation, one thread", rows))
    values = [v for _, rows in panels for _, bars in rows for _, v in bars]
    if not values:
        return None
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    left, width, bar, gap = 230, 560, 8, 7
    right = 90
    x = lambda v: left + width * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    svg, y = [], 58
    legend = [i for i in IMPLS if any(i == b for _, rows in panels for _, bars in rows for b, _ in bars)]
    for k, i in enumerate(legend):
        lx = left + k * 95
        svg.append(f'<rect x="{lx}" y="30" width="12" height="12" fill="{COLORS[i]}"/>'
                   f'<text x="{lx + 17}" y="40">{NAMES[i]}</text>')
    for title, rows in panels:
        y += 14
        svg.append(f'<text x="10" y="{y}" class="h">{title}</text>')
        y += 8
        top = y
        for label, bars in rows:
            h = len(bars) * bar
            svg.append(f'<text x="{left - 8}" y="{y + h / 2 + 4:.0f}" text-anchor="end">{label}</text>')
            for i, v in bars:
                w = max(1.0, x(v) - left)
                text = f"{v / 1e3:.1f} µs" if v >= 1e4 else f"{v:.0f} ns" if v >= 10 else f"{v:.1f} ns"
                svg.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 1}" fill="{COLORS[i]}">'
                           f'<title>{NAMES[i]}: {text}</title></rect>'
                           f'<text x="{left + w + 4:.1f}" y="{y + bar - 1}" class="v">{text}</text>')
                y += bar
            y += gap
        decade = lo
        while decade <= hi * 1.0001:
            gx = x(decade)
            svg.append(f'<line x1="{gx:.1f}" y1="{top - 4}" x2="{gx:.1f}" y2="{y}" class="g"/>')
            label = f"{decade:.0f} ns" if decade < 1e3 else f"{decade / 1e3:.0f} µs" if decade < 1e6 else f"{decade / 1e6:.0f} ms"
            svg.append(f'<text x="{gx:.1f}" y="{y + 12}" text-anchor="middle" class="v">{label}</text>')
            decade *= 10
        y += 26
    total_w = left + width + right
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{y}" viewBox="0 0 {total_w} {y}" '
            'font-family="Helvetica, Arial, sans-serif" font-size="11">'
            '<style>.h{font-weight:bold;font-size:12px}.v{font-size:9px;fill:#333}.g{stroke:#ccc;stroke-width:0.5}</style>'
            f'<rect width="{total_w}" height="{y}" fill="white"/>'
            '<text x="10" y="18" class="h">Cost per operation, nanoseconds, log scale: shorter is better '
            '(median of the runs; W6 lookups and W8 as 1/throughput)</text>')
    return head + "".join(svg) + "</svg>\n"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py DIR (the folder run.sh wrote raw.tsv into)")
    folder = Path(sys.argv[1])
    if not (folder / "raw.tsv").exists():
        sys.exit(f"report.py: no raw.tsv in {folder}")
    runs, units, probes, env = load(folder)
    if not runs:
        sys.exit("report.py: raw.tsv holds no results (did every run fail?)")
    med = {k: statistics.median(v) for k, v in runs.items() if k[3] != "w1_sum"}
    n = max((int(m.rsplit("_n", 1)[1]) for (_, _, _, m) in med if m.startswith("w9_start_ns_per_child_n")), default=100000)
    cat = catalogue(n, int(env.get("w10_n", "10000")))
    sums = {v for (_, _, _, m), vs in runs.items() if m == "w1_sum" for v in vs}
    (folder / "results.md").write_text(markdown(med, runs, units, cat, probes, env, env.get("runs", "?"), sums))
    (folder / "results.json").write_text(json.dumps({
        "env": env,
        "probe_2thr_speedup": {w: v for w, v in sorted(probes.items())},
        "medians": [{"workload": w, "impl": i, "threads": t, "metric": m, "unit": units[m],
                     "value": med[(w, i, t, m)], "runs": runs[(w, i, t, m)]}
                    for (w, i, t, m) in sorted(med)],
    }, indent=1, ensure_ascii=False) + "\n")
    svg = chart(med, cat)
    if svg:
        (folder / "chart.svg").write_text(svg)
    print((folder / "results.md").read_text())
    print(f"wrote {folder}/results.md, results.json" + (", chart.svg" if svg else ""))


if __name__ == "__main__":
    main()
