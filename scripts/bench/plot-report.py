#!/usr/bin/env python3
"""Draws a load test's JSON report (common-client load-test --json FILE) as an SVG:
requests per second, request latency and replication lag over the run.

    scripts/bench/plot-report.py REPORT.json [PICTURE.svg | -o PICTURE.svg] [--bins N]

The run is cut into N time bins (default 60) by each record's send time; each
panel shows per bin the median and the 99th percentile (and the maximum, thin),
per operation (latency) or per direction (lag: source createdAt to replica
replicatedAt). Latency and lag use a logarithmic axis. Only the Python standard
library is needed.
"""
import argparse
import json
import math
import sys
from xml.sax.saxutils import escape

WIDTH, PANEL_HEIGHT, LEFT, RIGHT, TOP, GAP = 940, 210, 70, 210, 64, 60
COLORS = {"createCustomer": "#1f77b4", "createOrder": "#d62728"}
LAG_NAMES = {"createCustomer": "customer → OrderService", "createOrder": "order → CustomerService"}


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return ordered[rank]


def binned(records, key, bins, duration):
    """Per operation: for each bin (start, p50, p99, max) of record[key]."""
    width = duration / bins
    series = {}
    for operation in COLORS:
        buckets = [[] for _ in range(bins)]
        for record in records:
            value = record.get(key)
            if record["operation"] != operation or value is None:
                continue
            buckets[min(bins - 1, int(record["sentAt"] / width))].append(value)
        series[operation] = [
            (i * width + width / 2, percentile(b, 50), percentile(b, 99), max(b)) for i, b in enumerate(buckets) if b
        ]
    return series


class Panel:
    def __init__(self, index, title, y_label, duration, y_max, log=True, y_min=None):
        self.top = TOP + index * (PANEL_HEIGHT + GAP)
        self.title, self.y_label, self.duration, self.log = title, y_label, duration, log
        self.y_min = y_min if y_min is not None else (0.1 if log else 0)
        self.y_max = max(y_max, self.y_min * 10 if log else 1)
        if log:
            self.y_max = 10 ** math.ceil(math.log10(self.y_max))
        self.parts = []

    def x(self, seconds):
        return LEFT + (WIDTH - LEFT - RIGHT) * seconds / self.duration

    def y(self, value):
        if self.log:
            value = max(value, self.y_min)
            fraction = (math.log10(value) - math.log10(self.y_min)) / (math.log10(self.y_max) - math.log10(self.y_min))
        else:
            fraction = value / self.y_max
        return self.top + PANEL_HEIGHT * (1 - min(1, fraction))

    def frame(self):
        right = WIDTH - RIGHT
        self.parts.append(f'<text x="{LEFT}" y="{self.top - 10}" class="title">{escape(self.title)}</text>')
        self.parts.append(f'<rect x="{LEFT}" y="{self.top}" width="{right - LEFT}" height="{PANEL_HEIGHT}" class="frame"/>')
        ticks = []
        if self.log:
            value = self.y_min
            while value <= self.y_max * 1.0001:
                ticks.append(value)
                value *= 10
        else:
            step = nice_step(self.y_max / 5)
            ticks = [i * step for i in range(int(self.y_max / step) + 1)]
        for value in ticks:
            y = self.y(value)
            label = f"{value:g}"
            self.parts.append(f'<line x1="{LEFT}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
            self.parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{label}</text>')
        step = nice_step(self.duration / 8)
        t = 0.0
        while t <= self.duration + 1e-9:
            x = self.x(t)
            self.parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.top}" y2="{self.top + PANEL_HEIGHT}" class="grid"/>')
            self.parts.append(f'<text x="{x:.1f}" y="{self.top + PANEL_HEIGHT + 15}" class="tick" text-anchor="middle">{t:g}</text>')
            t += step
        middle = self.top + PANEL_HEIGHT / 2
        self.parts.append(
            f'<text x="{LEFT - 48}" y="{middle}" class="tick" transform="rotate(-90 {LEFT - 48} {middle})" text-anchor="middle">{escape(self.y_label)}</text>'
        )

    def line(self, points, color, width=1.6, dash=None):
        if not points:
            return
        path = " ".join(f"{self.x(t):.1f},{self.y(v):.1f}" for t, v in points)
        dashing = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="{width}"{dashing}/>')

    def legend(self, entries):
        y = self.top + 12
        for label, color, dash, width in entries:
            dashing = f' stroke-dasharray="{dash}"' if dash else ""
            x = WIDTH - RIGHT + 12
            self.parts.append(f'<line x1="{x}" x2="{x + 24}" y1="{y}" y2="{y}" stroke="{color}" stroke-width="{width}"{dashing}/>')
            self.parts.append(f'<text x="{x + 30}" y="{y + 4}" class="tick">{escape(label)}</text>')
            y += 17


def nice_step(raw):
    if raw <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report")
    parser.add_argument("picture", nargs="?", help="the SVG to write (default: REPORT with .svg)")
    parser.add_argument("-o", "--output", help="the same, as an option")
    parser.add_argument("--bins", type=int, default=60)
    arguments = parser.parse_args()
    with open(arguments.report) as file:
        report = json.load(file)
    records = report["records"]
    if not records:
        sys.exit("the report has no records (was it written by --json?)")
    duration = max(report["durationSeconds"], max(r["sentAt"] for r in records), 1e-3)
    bins = max(1, min(arguments.bins, len(records) // 20 or 1))
    width = duration / bins

    panels = []
    # Throughput: successful creates per second in each bin, per operation.
    counts = {op: [0] * bins for op in COLORS}
    for record in records:
        counts[record["operation"]][min(bins - 1, int(record["sentAt"] / width))] += 1
    peak = max(max(c) for c in counts.values()) / width
    throughput = Panel(0, "Creates per second", "req/s", duration, peak * 1.15, log=False)
    throughput.frame()
    for op, color in COLORS.items():
        throughput.line([(i * width + width / 2, c / width) for i, c in enumerate(counts[op])], color)
    throughput.legend([(op, COLORS[op], None, 1.6) for op in COLORS])
    panels.append(throughput)

    for index, (key, title, names) in enumerate([
        ("latencyMs", "Request latency (ms, log scale)", {op: op for op in COLORS}),
        ("lagMs", "Replication lag, createdAt → replicatedAt (ms, log scale)", LAG_NAMES),
    ], start=1):
        series = binned(records, key, bins, duration)
        top = max([p[3] for s in series.values() for p in s] or [1])
        panel = Panel(index, title, "ms", duration, top)
        panel.frame()
        legend = []
        for op, points in series.items():
            if not points:
                continue
            color = COLORS[op]
            panel.line([(t, p50) for t, p50, _, _ in points], color)
            panel.line([(t, p99) for t, _, p99, _ in points], color, dash="5,3")
            panel.line([(t, mx) for t, _, _, mx in points], color, width=0.8, dash="1,2")
            legend.append((names[op], color, None, 1.6))
        legend += [("p50", "#666", None, 1.6), ("p99", "#666", "5,3", 1.6), ("max", "#666", "1,2", 0.8)]
        panel.legend(legend)
        panels.append(panel)

    height = TOP + len(panels) * (PANEL_HEIGHT + GAP) + 10
    rate = f", target {report['targetRate']:g} req/s" if report.get("targetRate") else ""
    heading = (
        f"Load test {report['runID']}: {report['count']} requests, concurrency {report['concurrency']}{rate}, "
        f"{report['requestsPerSecond']:.0f} req/s, {'PASS' if report['passed'] else 'FAIL'}"
    )
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">',
        "<style>text{font-family:sans-serif;font-size:11px;fill:#222}.title{font-size:13px;font-weight:bold}"
        ".heading{font-size:14px;font-weight:bold}.frame{fill:none;stroke:#444}.grid{stroke:#ddd;stroke-width:0.6}</style>",
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{LEFT}" y="22" class="heading">{escape(heading)}</text>',
    ]
    for panel in panels:
        svg += panel.parts
    last = panels[-1]
    svg.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{last.top + PANEL_HEIGHT + 32}" class="tick" text-anchor="middle">seconds since the start of the run (by send time)</text>')
    svg.append("</svg>")
    output = arguments.output or arguments.picture or arguments.report.rsplit(".", 1)[0] + ".svg"
    with open(output, "w") as file:
        file.write("\n".join(svg) + "\n")
    print(output)


if __name__ == "__main__":
    main()
