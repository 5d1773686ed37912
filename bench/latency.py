"""Roofline estimate vs measured time on this CPU: calibrates, measures, prints the rank correlation per model.

    python bench/latency.py [zoo:resnet18 zoo:gpt2 ...]    (gpt2 runs at 64 tokens)

Timings on a shared machine are noisy: run it a few times. The calibration is written to the usual cache
(model_io.files.device_files), so point XDG_CACHE_HOME elsewhere to keep yours.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from netcost.costing import formatting as fmt  # noqa: E402
from netcost.costing.latency import estimate  # noqa: E402
from netcost.model_io.cli.latency_tables import LatencySummary  # noqa: E402
from netcost.model_io.files import device_files  # noqa: E402
from netcost.model_io.worker.calibrate import GEMM_N, best_time, calibrate_in_subprocess  # noqa: E402
from netcost.model_io.worker.measure_client import measure_in_worker  # noqa: E402
from netcost.model_io.worker.resolve import LoadOptions  # noqa: E402

INPUTS = {"zoo:gpt2": ("long:1,64",)}


def main(refs: list[str]) -> None:
    cpu = calibrate_in_subprocess()[0]
    device_files.save_calibration((cpu,))
    a = np.random.rand(GEMM_N, GEMM_N).astype(np.float32)
    numpy_flops = 2 * GEMM_N ** 3 / best_time(lambda: a @ a, lambda: None)
    print(f"this machine: fp32 GEMM {fmt.si(cpu.peak_flops['fp32'], 'FLOP/s')} (numpy's own GEMM, same run: "
          f"{fmt.si(numpy_flops, 'FLOP/s')}, ratio {cpu.peak_flops['fp32'] / numpy_flops:.2f}), copy "
          f"{fmt.si(cpu.memory_bandwidth, 'B/s')}")
    for ref in refs:
        opts = LoadOptions(inputs=INPUTS.get(ref, ()))
        report, m = measure_in_worker(ref, opts, repeats=7)
        view = LatencySummary(report, estimate(report, cpu), m)
        est = view.estimate
        assert est is not None
        measured = view.measured_rows()
        print(f"\n{ref} {' '.join(opts.inputs)}: estimate {fmt.duration(est.total_s)}, measured rows "
              f"{fmt.duration(sum(s for s in measured if s))}, whole forward {fmt.duration(m.forward_s)}; "
              f"Spearman rank correlation over {sum(1 for s in measured if s is not None)} rows: "
              f"{view.correlation():.3f}")
        worst = sorted(zip(report.layers, est.rows, measured, strict=True), key=lambda t: -(t[2] or 0))[:8]
        print(f"  {'row':<28} {'bound':<8} {'estimate':>10} {'measured':>10}  ratio")
        for row, e, s in worst:
            ratio = f"{s / e.seconds:.1f}x" if s and e.seconds else "—"
            print(f"  {row.name[:28]:<28} {e.bound:<8} {fmt.duration(e.seconds):>10} "
                  f"{fmt.duration(s or 0):>10}  {ratio}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["zoo:resnet18", "zoo:gpt2"])
