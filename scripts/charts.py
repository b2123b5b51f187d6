#!/usr/bin/env python3
"""Draws scripts/compare.sh's chart cases as SVG line charts (standard library only).

Reads compare.sh's raw results (one run per line: case id, implementation, value, tab
separated; value "NA" = pattern not supported, "FAIL" = the run failed), takes each
case's median, and writes:

  push-pull-by-size.svg        PUSH/PULL tcp throughput (MB/s) by message size
  pub-sub-fan-out-64b.svg      PUB/SUB tcp, msg/s received by each subscriber,
  pub-sub-fan-out-1024b.svg    by subscriber count (64 B and 1 KiB)

into --chart-dir, plus a markdown fragment (--markdown) with a section per chart: the
image link (relative to --report-dir) and a table of the plotted medians. A chart
without a single value is left out. compare.sh calls it; by hand:

    python3 scripts/charts.py results.tsv --chart-dir docs/charts --report-dir docs \\
        --markdown /tmp/charts.md --impls "libzmq monocoque handle zmq.rs omq-tokio"
"""

import argparse
import math
import os
import statistics
from xml.sax.saxutils import escape

# The implementations drawn, in legend order, with colour (Okabe-Ito, readable by
# colour-blind readers), marker shape and dash pattern.
STYLES = {
    "libzmq": ("#000000", "circle", ""),
    "monocoque": ("#0072B2", "square", ""),
    "handle": ("#56B4E9", "triangle", "6 3"),
    "omq-tokio": ("#E69F00", "diamond", ""),
    "zmq.rs": ("#D55E00", "cross", ""),
}
SIZES = [16, 64, 256, 1024, 4096, 16384, 65536]
SUBSCRIBERS = [1, 8, 64, 256]
FAN_OUT_SIZES = [64, 1024]

WIDTH, LEFT, TOP, PLOT_W, PLOT_H = 860, 78, 46, 520, 330
LEGEND_X = LEFT + PLOT_W + 24
FONT = 'font-family="sans-serif"'


# ---- results ----

def read_runs(path):
    """{case id: {implementation: [value strings]}} from compare.sh's results file."""
    runs = {}
    with open(path) as f:
        for line in f:
            case, impl, value = line.rstrip("\n").split("\t")
            runs.setdefault(case, {}).setdefault(impl, []).append(value)
    return runs


def point(runs, case, impl):
    """A case's median for impl, or why there is none: "n/a", "failed" or "not run"."""
    values = runs.get(case, {}).get(impl, [])
    numbers = [float(v) for v in values if v not in ("NA", "FAIL")]
    if numbers:
        return statistics.median(numbers)
    if values and all(v == "NA" for v in values):
        return "n/a"
    return "failed" if values else "not run"


def size_case(size):
    return f"thr push-pull tcp {size} B"


def fan_out_case(subscribers, size):
    return f"thr pub-sub:{subscribers} tcp {size} B"


def size_series(runs, impls):
    """Per implementation, [(size, MB/s of payload or the reason for no value)]."""
    def megabytes(size, value):
        return value * size / 1e6 if isinstance(value, float) else value
    return {i: [(s, megabytes(s, point(runs, size_case(s), i))) for s in SIZES] for i in impls}


def fan_out_series(runs, impls, size):
    """Per implementation, [(subscribers, msg/s each subscriber received or reason)]."""
    return {i: [(n, point(runs, fan_out_case(n, size), i)) for n in SUBSCRIBERS] for i in impls}


def has_values(series):
    return any(isinstance(y, float) for points in series.values() for _, y in points)


# ---- scales and ticks ----

def log_scale(lo, hi, start, end):
    """Maps lo..hi (both > 0) logarithmically onto start..end pixels."""
    span = math.log(hi / lo)
    return lambda v: start + (end - start) * math.log(v / lo) / span


def log_axis(values):
    """(lo, hi, ticks) of a log axis around values: bounds and ticks on the 1-2-5
    steps, or on powers of ten only when that would make more than 10 ticks."""
    steps = [m * 10**e for e in range(-3, 13) for m in (1, 2, 5)]
    lo = max((s for s in steps if s <= min(values)), default=steps[0])
    hi = min((s for s in steps if s >= max(values)), default=steps[-1])
    if lo == hi:
        lo, hi = lo / 2, hi * 2
    ticks = [s for s in steps if lo <= s <= hi]
    if len(ticks) <= 10:
        return lo, hi, ticks
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    return lo, hi, [10**e for e in range(round(math.log10(lo)), round(math.log10(hi)) + 1)]


def si(value):
    """1500000 -> "1.5M", 20000 -> "20k", 80 -> "80"."""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:g}{suffix}"
    return f"{value:g}"


def size_label(size):
    return f"{size // 1024} KiB" if size >= 1024 else f"{size} B"


# ---- SVG pieces ----

def text(x, y, content, size=12, anchor="start", extra=""):
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" {FONT} '
            f'text-anchor="{anchor}" {extra}>{escape(content)}</text>')


def line(x1, y1, x2, y2, colour="#000000", width=1, dash=""):
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{colour}" stroke-width="{width}"{dashes}/>')


def marker(shape, x, y, colour):
    """A data point drawn as shape, about 8 px across."""
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
    if shape == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    if shape == "triangle":
        corners = [(x, y - 5), (x - 4.5, y + 3.5), (x + 4.5, y + 3.5)]
    elif shape == "diamond":
        corners = [(x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y)]
    else:  # cross
        return (line(x - 4, y - 4, x + 4, y + 4, colour, 2) +
                line(x - 4, y + 4, x + 4, y - 4, colour, 2))
    points = " ".join(f"{px:.1f},{py:.1f}" for px, py in corners)
    return f'<polygon points="{points}" fill="{colour}"/>'


def polylines(pixels, colour, dash):
    """Lines through consecutive points that have values; a missing one breaks it."""
    out, run = [], []
    for p in pixels + [None]:
        if p is not None:
            run.append(p)
            continue
        if len(run) > 1:
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                       f'stroke-width="2"{dashes}/>')
        run = []
    return out


def wrap(words, width):
    """Splits a caption into lines of at most about width characters."""
    lines, current = [], ""
    for word in words.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return lines + [current] if current else lines


# ---- one chart ----

def axes(chart, x_of, y_of, y_ticks):
    """Frame, grid lines, tick labels and axis titles."""
    bottom, right = TOP + PLOT_H, LEFT + PLOT_W
    out = [f'<rect x="{LEFT}" y="{TOP}" width="{PLOT_W}" height="{PLOT_H}" '
           f'fill="none" stroke="#555555"/>']
    for value in y_ticks:
        y = y_of(value)
        out += [line(LEFT, y, right, y, "#dddddd"), text(LEFT - 6, y + 4, si(value), 11, "end")]
    for value, label in chart["x_ticks"]:
        x = x_of(value)
        out += [line(x, TOP, x, bottom, "#eeeeee"), text(x, bottom + 16, label, 11, "middle")]
    out.append(text(LEFT + PLOT_W / 2, bottom + 36, chart["x_title"], 12, "middle"))
    y_mid = TOP + PLOT_H / 2
    out.append(text(18, y_mid, chart["y_title"], 12, "middle",
                    f'transform="rotate(-90 18 {y_mid:.1f})"'))
    return out


def missing_note(points):
    """" (n/a at 256)"-style note for the x values without a median."""
    by_reason = {}
    for x, y in points:
        if not isinstance(y, float):
            by_reason.setdefault(y, []).append(x)
    notes = [f"{reason} at {', '.join(str(x) for x in xs)}" for reason, xs in by_reason.items()]
    if len(by_reason) == 1 and len(next(iter(by_reason.values()))) == len(points):
        notes = [next(iter(by_reason))]
    return f" ({'; '.join(notes)})" if notes else ""


def series_marks(chart, x_of, y_of):
    """Each implementation's line and markers, and its legend entry."""
    out = []
    for row, (impl, points) in enumerate(chart["series"].items()):
        colour, shape, dash = STYLES[impl]
        pixels = [(x_of(x), y_of(y)) if isinstance(y, float) else None for x, y in points]
        out += polylines(pixels, colour, dash)
        out += [marker(shape, *p, colour) for p in pixels if p is not None]
        ly = TOP + 10 + row * 22
        label = impl + missing_note([(chart["x_name"](x), y) for x, y in points])
        out += [line(LEGEND_X, ly, LEGEND_X + 26, ly, colour, 2, dash),
                marker(shape, LEGEND_X + 13, ly, colour),
                text(LEGEND_X + 32, ly + 4, label, 11)]
    return out


def draw(chart, caption):
    """The whole SVG document of one chart."""
    values = [y for points in chart["series"].values() for _, y in points if isinstance(y, float)]
    lo, hi, y_ticks = log_axis(values)
    xs = [x for x, _ in chart["x_ticks"]]
    x_of = log_scale(xs[0], xs[-1], LEFT + 14, LEFT + PLOT_W - 14)
    y_of = log_scale(lo, hi, TOP + PLOT_H, TOP)
    caption_lines = [ln for part in caption for ln in wrap(part, 125)]
    height = TOP + PLOT_H + 58 + 15 * len(caption_lines)
    body = [f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
            text(LEFT, 24, chart["title"], 15, "start", 'font-weight="bold"')]
    body += axes(chart, x_of, y_of, y_ticks)
    body += series_marks(chart, x_of, y_of)
    body += [text(LEFT - 60, TOP + PLOT_H + 62 + 15 * i, ln, 11, "start", 'fill="#333333"')
             for i, ln in enumerate(caption_lines)]
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}">',
        f"<title>{escape(chart['title'])}</title>", *body, "</svg>", ""])


# ---- the charts and their report sections ----

def charts(runs, impls):
    """(file name, chart) for each chart that has at least one value."""
    size_chart = {
        "title": "PUSH/PULL throughput by message size, tcp",
        "x_title": "message size (log scale)",
        "y_title": "MB/s of payload (10^6 B/s, log scale)",
        "x_ticks": [(s, size_label(s)) for s in SIZES],
        "x_name": size_label,
        "series": size_series(runs, impls),
        "unit": "MB/s of payload (msg/s x size / 10^6)",
    }
    found = [("push-pull-by-size.svg", size_chart)]
    for size in FAN_OUT_SIZES:
        found.append((f"pub-sub-fan-out-{size}b.svg", {
            "title": f"PUB/SUB fan-out, tcp, {size_label(size)} messages",
            "x_title": "subscribers (log scale), all in one process",
            "y_title": "msg/s received by each subscriber (log scale)",
            "x_ticks": [(n, str(n)) for n in SUBSCRIBERS],
            "x_name": str,
            "series": fan_out_series(runs, impls, size),
            "unit": "msg/s received by each subscriber (= msg/s published)",
        }))
    return [(name, chart) for name, chart in found if has_values(chart["series"])]


def cell(value, libzmq):
    """A table cell: the median and, when both exist, its ratio to libzmq's."""
    if not isinstance(value, float):
        return value
    shown = f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"
    if isinstance(libzmq, float) and libzmq > 0:
        return f"{shown} ({value / libzmq:.2f}x)"
    return shown


def section(name, chart, link_dir):
    """The markdown section of one chart: image, what it shows, table of medians."""
    columns = [label for _, label in chart["x_ticks"]]
    libzmq = chart["series"].get("libzmq", [(None, None)] * len(columns))
    lines = [f"## Figure: {chart['title']}", "",
             f"![{chart['title']}]({link_dir}/{name})", "",
             f"Medians in {chart['unit']}; in parentheses the ratio to libzmq's in the "
             "same run (> 1 is better).", "",
             "| | " + " | ".join(columns) + " |",
             "| --- |" + " ---: |" * len(columns)]
    for impl, points in chart["series"].items():
        cells = [cell(y, base) for (_, y), (_, base) in zip(points, libzmq)]
        lines.append(f"| {impl} | " + " | ".join(cells) + " |")
    return lines + [""]


def caption(args):
    """The caption lines under every chart: what a point is, where and when it ran."""
    parts = []
    if args.quick:
        parts.append("QUICK=1 smoke run (counts / 20): not a measurement.")
    parts += [f"Each point: median of {args.reps} run(s) of two processes "
              "(scripts/compare.sh, libzmq's perf tool conventions); missing points: "
              "n/a = not supported, failed = the runs failed.",
              f"Run {args.date} on {args.cpu}. Pinning: {args.pinning}."]
    return parts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--chart-dir", required=True)
    parser.add_argument("--report-dir", default=None,
                        help="directory of the report the image links are relative to")
    parser.add_argument("--markdown", help="write the report's chart sections here")
    parser.add_argument("--impls", default=" ".join(STYLES))
    parser.add_argument("--date", default="(date unknown)")
    parser.add_argument("--cpu", default="(CPU unknown)")
    parser.add_argument("--pinning", default="(unknown)")
    parser.add_argument("--reps", default="?")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    ran = args.impls.split()
    impls = [i for i in STYLES if i in ran]
    os.makedirs(args.chart_dir, exist_ok=True)
    link_dir = os.path.relpath(args.chart_dir, args.report_dir or args.chart_dir + "/..")
    sections = []
    for name, chart in charts(read_runs(args.results), impls):
        with open(os.path.join(args.chart_dir, name), "w") as f:
            f.write(draw(chart, caption(args)))
        print(f"wrote {os.path.join(args.chart_dir, name)}")
        sections += section(name, chart, link_dir)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(sections))


if __name__ == "__main__":
    main()
