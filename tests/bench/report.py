#!/usr/bin/env python3
"""Kernel benchmark report (`make report`) from build/report/bench.jsonl (tests/bench/kernels.sh).

  report.py BENCH.jsonl OUTDIR   writes OUTDIR/kernels.png (grouped GFLOPS bars per shape: hosted
                                 AOT, JIT, OpenBLAS; bare metal AOT, JIT) and OUTDIR/kernels.md
  report.py --table BENCH.jsonl  prints the side-by-side text table only (no matplotlib needed)
"""
import json
import os
import sys


def load(path):
    kern, limits, blas_cfg = {}, {}, None
    order, hosted_order = [], []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("record") == "bench_kernel":
                key = (r["kernel"], r["shape"])
                if key not in order:
                    order.append(key)
                kern.setdefault(key, {})[r["where"]] = r
                if r["where"] == "hosted":
                    hosted_order.append(key)
            elif r.get("record") == "bench_limits":
                limits[r["where"]] = r
            elif r.get("record") == "openblas_config":
                blas_cfg = r
    # The hosted run's order (it has every shape; bare metal skips sgemm 2048^3), then the rest.
    order = hosted_order + [k for k in order if k not in hosted_order]
    return order, kern, limits, blas_cfg


def num(r, k):
    v = r.get(k) if r else None
    return v if isinstance(v, (int, float)) else None


def fmt(v, spec=".2f", none="-"):
    return none if v is None else format(v, spec)


def ratio(a, b):
    return a / b if a is not None and b else None


COLS = ["kernel", "shape", "AOT GF", "JIT GF", "OpenBLAS GF", "JIT/AOT", "JIT/OpenBLAS", "compile ms",
        "break-even", "% limit", "bare AOT GF", "bare JIT GF", "bare JIT/AOT"]


def rows(order, kern):
    out = []
    for key in order:
        h, b, o = (kern[key].get(w) for w in ("hosted", "bare-metal", "openblas"))
        h_aot, h_jit, blas = num(h, "gflops_aot"), num(h, "gflops_jit"), num(o, "gflops")
        b_aot, b_jit = num(b, "gflops_aot"), num(b, "gflops_jit")
        be = num(h, "break_even_calls")
        out.append([key[0], key[1], fmt(h_aot), fmt(h_jit), fmt(blas), fmt(ratio(h_jit, h_aot), ".2f"),
                    fmt(ratio(h_jit, blas), ".2f"), fmt(num(h, "compile_ms"), ".1f"),
                    "-" if be is None else ("never" if be < 0 else str(int(be))),
                    fmt(num(h, "pct_of_limit"), ".1f"), fmt(b_aot, ".3f"), fmt(b_jit, ".3f"),
                    fmt(ratio(b_jit, b_aot), ".2f")])
    return out


def limit_lines(limits, blas_cfg):
    lines = []
    for w, l in sorted(limits.items()):
        lines.append("%s (%s, JIT %s/%s bitcode): FMA peak %.2f GFLOP/s JIT, %.2f AOT (SSE2); read bandwidth "
                     "%.2f GB/s JIT, %.2f AOT (%d MiB)" % (w, l.get("cpu"), l.get("jit_cpu") or "off",
                                                          l.get("bitcode") or "-", l["fma_peak_gflops_jit"],
                                                          l["fma_peak_gflops_aot"], l["read_gbs_jit"],
                                                          l["read_gbs_aot"], l["read_buffer_mib"]))
    if blas_cfg:
        lines.append("openblas: %s, core %s, 1 thread" % (blas_cfg["config"], blas_cfg["core"]))
    return lines


def table(path):
    order, kern, limits, blas_cfg = load(path)
    r = rows(order, kern)
    w = [max(len(c), *(len(x[i]) for x in r)) if r else len(c) for i, c in enumerate(COLS)]
    print("kernel benchmark: GFLOPS (GF) per kernel and shape; hosted unless marked bare (TCG: emulated)")
    for l in limit_lines(limits, blas_cfg):
        print("kernel benchmark: " + l)
    print("  ".join(c.rjust(w[i]) if i > 1 else c.ljust(w[i]) for i, c in enumerate(COLS)))
    for x in r:
        print("  ".join(c.rjust(w[i]) if i > 1 else c.ljust(w[i]) for i, c in enumerate(x)))


def markdown(path, outdir):
    order, kern, limits, blas_cfg = load(path)
    md = ["# Kernel benchmark", "",
          "GFLOPS per kernel and shape (matvec shape = n x d, input x output; sgemm m x n x k, A*B, or with T A*W^T, "
          "W being n x k: a 32-position prompt batch; attention "
          "heads/head_size@pos). Hosted = Linux process on the host CPU; bare metal = the same ELF in QEMU "
          "(TCG here: emulated, not hardware speed). OpenBLAS: single-threaded, hosted. % limit: sgemm and "
          "attention against the FMA peak, the others against the single-core read bandwidth (in-cache shapes "
          "exceed it). Break-even: calls after which the JIT compile has paid for itself.", ""]
    md += ["- " + l for l in limit_lines(limits, blas_cfg)] + [""]
    md.append("| " + " | ".join(COLS) + " |")
    md.append("|" + "---|" * len(COLS))
    for x in rows(order, kern):
        md.append("| " + " | ".join(x) + " |")
    with open(os.path.join(outdir, "kernels.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    return order, kern


def plot(order, kern, outdir):
    try:
        import matplotlib
    except ImportError:
        print("report: no matplotlib for %s (apt-get install python3-matplotlib; make report uses "
              "/usr/bin/python3): kernels.png not written" % sys.executable, file=sys.stderr)
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["%s\n%s" % k for k in order]
    panels = [("hosted (native)", [("hosted", "gflops_aot", "AOT (SSE2)"), ("hosted", "gflops_jit", "JIT"),
                                   ("openblas", "gflops", "OpenBLAS 1 thread")]),
              ("bare metal (QEMU; TCG = emulated)", [("bare-metal", "gflops_aot", "AOT (SSE2)"),
                                                     ("bare-metal", "gflops_jit", "JIT")])]
    fig, axes = plt.subplots(2, 1, figsize=(max(10, 0.9 * len(order) + 2), 10))
    for ax, (title, series) in zip(axes, panels):
        width = 0.8 / len(series)
        anyval = False
        for i, (where, key, name) in enumerate(series):
            vals = [num(kern[k].get(where), key) or 0 for k in order]
            xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(order))]
            ax.bar(xs, vals, width, label=name)
            anyval = anyval or any(v > 0 for v in vals)
        if anyval:
            ax.set_yscale("log")
        else:
            ax.text(0.5, 0.5, "no records", transform=ax.transAxes, ha="center")
        ax.set_ylabel("GFLOPS (log)")
        ax.set_title("bench-kernels: " + title)
        ax.set_xticks(range(len(order)))
        ax.set_xticklabels(labels, fontsize=7)
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "kernels.png"), dpi=110)
    return True


def main(argv):
    if len(argv) == 3 and argv[1] == "--table":
        table(argv[2])
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, outdir = argv[1], argv[2]
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        print("report: %s is missing or empty: run 'make bench' first" % path, file=sys.stderr)
        return 1
    os.makedirs(outdir, exist_ok=True)
    order, kern = markdown(path, outdir)
    if not plot(order, kern, outdir):
        return 1
    print("report: wrote %s and %s" % (os.path.join(outdir, "kernels.md"), os.path.join(outdir, "kernels.png")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
