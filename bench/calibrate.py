"""Calibration's GEMM figure against numpy's own GEMM on this machine, measured interleaved in one run:

    python bench/calibrate.py [rounds]

Prints both figures and their ratio (torch ÷ numpy; about 1 on a quiet machine, and expected within 0.5–2). It was a
unit test once; a ratio of timings fails under load, so it is a figure to read here instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from netcost.costing import formatting as fmt  # noqa: E402
from netcost.model_io.worker.calibrate import GEMM_N, best_time, gemm_flops, threads  # noqa: E402


def main(rounds: int = 3) -> None:
    import torch

    torch.set_num_threads(threads())
    a = np.random.rand(GEMM_N, GEMM_N).astype(np.float32)
    b = np.random.rand(GEMM_N, GEMM_N).astype(np.float32)
    ours, numpy_ = [], []
    for _ in range(rounds):  # interleaved, so a burst of load from other processes hits both alike
        ours.append(gemm_flops("fp32", budget_s=0.2))
        numpy_.append(2 * GEMM_N ** 3 / best_time(lambda: a @ b, lambda: None, 0.2))
    ratio = max(ours) / max(numpy_)
    verdict = "within 2x" if 0.5 <= ratio <= 2.0 else "OUTSIDE 2x: check the calibration (or the machine's load)"
    print(f"fp32 GEMM {GEMM_N}x{GEMM_N}, {threads()} threads: calibration {fmt.si(max(ours), 'FLOP/s')}, numpy "
          f"{fmt.si(max(numpy_), 'FLOP/s')}, ratio {ratio:.2f} ({verdict})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
