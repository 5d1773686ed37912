"""Devices for the roofline estimate: peak FLOP/s per dtype and memory bandwidth.

Presets carry the vendors' dense figures (no structured-sparsity doubling); each cites its data sheet. Users add
their own devices in a JSON file of the same shape as `netcost devices --format json` (model_io.files.device_files reads
it and the calibration cache; this module only validates the data, so it stays pure Python).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .dtypes import canonical_dtype

PEAK_DTYPES: tuple[str, ...] = ("fp32", "tf32", "fp16", "bf16", "int8")
# The peak a document dtype runs at. float32 uses the plain fp32 figure: TF32 tensor cores change the numerics,
# so they are opt-in (`compute_dtype="tf32"`).
DOCUMENT_PEAK: dict[str, str] = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16", "int8": "int8"}

T = 1e12
G = 1e9

# The shortest time one kernel takes however little it does (its launch floor), per device kind, in microseconds.
# GPU: NVIDIA's "Getting Started with CUDA Graphs" (technical blog, 2019) measures ~3.8 µs per short kernel
# launched back to back in one stream (2.9 µs of it the kernel running); 4 µs. Apple GPUs: Metal dispatches each
# kernel from a command buffer the same way and Apple publishes no figure: the GPU default. CPU: no launch, but each
# op is a parallel region whose fork/join costs ~1 µs on a multi-core x86 (EPCC OpenMP micro-benchmarks, PARALLEL
# overhead); 1 µs. A device file overrides it with `launch_overhead_us` (0 turns the floor off).
DEFAULT_LAUNCH_US: dict[str, float] = {"gpu": 4.0, "apple": 4.0, "cpu": 1.0}


@dataclass(frozen=True)
class Device:
    name: str
    peak_flops: dict[str, float]  # FLOP/s (int8: OP/s) per key of PEAK_DTYPES; absent = not supported
    memory_bandwidth: float  # bytes/s
    source: str
    kind: str = "gpu"  # "gpu", "cpu" or "apple"
    launch_overhead_us: float | None = None  # the launch floor per kernel; None: DEFAULT_LAUNCH_US of the kind
    memory_bytes: float | None = None  # the device's own memory (training: the largest batch that fits); None: unknown

    def __post_init__(self) -> None:
        if self.launch_overhead_us is None:
            object.__setattr__(self, "launch_overhead_us", DEFAULT_LAUNCH_US.get(self.kind, DEFAULT_LAUNCH_US["gpu"]))

    @property
    def launch_floor_s(self) -> float:
        """The launch floor in seconds: no kernel's estimate is shorter."""
        return float(self.launch_overhead_us or 0.0) * 1e-6

    def peak(self, dtype: str) -> tuple[float, str]:
        """(FLOP/s, the peak key used) for a document dtype (`float16`) or a peak key (`tf32`). A dtype the
        device has no figure for falls back to fp32 (T4 has no bf16), and the key returned says so."""
        key = dtype if dtype in PEAK_DTYPES else DOCUMENT_PEAK[canonical_dtype(dtype)]
        if key in self.peak_flops:
            return self.peak_flops[key], key
        return self.peak_flops["fp32"], "fp32"

    def ridge_point(self, dtype: str) -> float:
        """FLOPs per byte at which the compute roof meets the memory roof."""
        return self.peak(dtype)[0] / self.memory_bandwidth

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "peak_flops": dict(self.peak_flops), "memory_bandwidth": self.memory_bandwidth,
                "source": self.source, "kind": self.kind, "launch_overhead_us": self.launch_overhead_us,
                "memory_bytes": self.memory_bytes}


def _gpu(name: str, fp32: float, tf32: float | None, fp16: float, bf16: float | None, int8: float, bw: float,
         source: str, memory_gib: float | None = None) -> Device:
    peaks = {"fp32": fp32 * T, "fp16": fp16 * T, "int8": int8 * T}
    if tf32 is not None:
        peaks["tf32"] = tf32 * T
    if bf16 is not None:
        peaks["bf16"] = bf16 * T
    memory = memory_gib * 2 ** 30 if memory_gib is not None else None
    return Device(name, {k: peaks[k] for k in PEAK_DTYPES if k in peaks}, bw * G, source, "gpu", None, memory)


# Tensor-core figures below are dense: data sheets print the sparse figure with an asterisk, twice the dense one.
# The last figure of a GPU is its memory in GiB (the data sheets' "GB" of HBM and GDDR: an "80 GB" H100 reports
# 81,559 MiB to nvidia-smi); training estimates use it for the largest batch that fits.
PRESETS: tuple[Device, ...] = (
    # NVIDIA A100 Tensor Core GPU data sheet (2021): FP32 19.5, TF32 156, FP16/BF16 312, INT8 624 TOPS;
    # HBM2 1,555 GB/s (40 GB SXM) and HBM2e 2,039 GB/s (80 GB SXM).
    _gpu("a100-40gb", 19.5, 156, 312, 312, 624, 1555, "NVIDIA A100 data sheet, SXM4 40 GB (dense)", 40),
    _gpu("a100-80gb", 19.5, 156, 312, 312, 624, 2039, "NVIDIA A100 data sheet, SXM4 80 GB (dense)", 80),
    # NVIDIA H100 data sheet, SXM5: FP32 67, TF32 989*, BF16/FP16 1,979*, INT8 3,958* (* sparse; halved here);
    # HBM3 3.35 TB/s.
    _gpu("h100-sxm", 67, 494.5, 989.5, 989.5, 1979, 3350, "NVIDIA H100 data sheet, SXM5 (dense)", 80),
    # NVIDIA H200 data sheet, SXM: the H100 SXM's compute with HBM3e at 4.8 TB/s.
    _gpu("h200", 67, 494.5, 989.5, 989.5, 1979, 4800, "NVIDIA H200 data sheet, SXM (dense)", 141),
    # NVIDIA L4 data sheet: FP32 30.3, TF32 120*, FP16/BF16 242*, INT8 485* (sparse; halved); GDDR6 300 GB/s.
    _gpu("l4", 30.3, 60, 121, 121, 242.5, 300, "NVIDIA L4 data sheet (dense)", 24),
    # NVIDIA Ada Lovelace architecture white paper, appendix A (RTX 4090): FP32 82.6; tensor TF32 82.6, FP16 and
    # BF16 with FP32 accumulate 165.2, INT8 660.6 (dense); GDDR6X 1,008 GB/s.
    _gpu("rtx-4090", 82.6, 82.6, 165.2, 165.2, 660.6, 1008, "NVIDIA Ada Lovelace white paper, RTX 4090 (dense)",
         24),
    # NVIDIA T4 data sheet: FP32 8.1, mixed FP16/FP32 65, INT8 130 TOPS; GDDR6 320 GB/s; Turing has no TF32/BF16.
    _gpu("t4", 8.1, None, 65, None, 130, 320, "NVIDIA T4 data sheet", 16),
    # Apple newsroom, M1 (Nov 2020): 8-core GPU 2.6 TFLOPS, LPDDR4X 68.25 GB/s. Apple publishes FP32 only; these
    # GPUs run FP16 at the FP32 rate.
    Device("apple-m1", {"fp32": 2.6 * T, "fp16": 2.6 * T}, 68.25 * G, "Apple newsroom, M1 (8-core GPU)", "apple"),
    # Apple newsroom, M1 Max (Oct 2021): 32-core GPU 10.4 TFLOPS, 400 GB/s.
    Device("apple-m1-max", {"fp32": 10.4 * T, "fp16": 10.4 * T}, 400 * G, "Apple newsroom, M1 Max (32-core GPU)",
           "apple"),
    # Apple newsroom, M2 (June 2022): 10-core GPU 3.6 TFLOPS, 100 GB/s.
    Device("apple-m2", {"fp32": 3.6 * T, "fp16": 3.6 * T}, 100 * G, "Apple newsroom, M2 (10-core GPU)", "apple"),
    # Apple newsroom, M2 Ultra (June 2023): 76-core GPU 27.2 TFLOPS, 800 GB/s.
    Device("apple-m2-ultra", {"fp32": 27.2 * T, "fp16": 27.2 * T}, 800 * G, "Apple newsroom, M2 Ultra (76-core GPU)",
           "apple"),
    # CPUs: peak = cores x base GHz x FLOPs per cycle per core (two FMA units: AVX2 32 FP32 FLOPs, AVX-512 64;
    # fp16/bf16 compute at the fp32 rate, int8 VNNI at 4x fp32), bandwidth = channels x MT/s x 8 bytes.
    # Intel ARK, Xeon Platinum 8380: 40 cores, 2.3 GHz, AVX-512 with 2 FMA units, 8 x DDR4-3200.
    Device("xeon-8380", {"fp32": 40 * 2.3e9 * 64, "bf16": 40 * 2.3e9 * 64, "int8": 4 * 40 * 2.3e9 * 64},
           8 * 3200e6 * 8, "Intel ARK Xeon Platinum 8380 (cores x GHz x FLOPs/cycle)", "cpu"),
    # AMD EPYC 9654 product page: 96 cores, 2.4 GHz, Zen 4 AVX-512 on 256-bit units (32 FP32 FLOPs/cycle),
    # 12 x DDR5-4800.
    Device("epyc-9654", {"fp32": 96 * 2.4e9 * 32, "bf16": 96 * 2.4e9 * 32, "int8": 4 * 96 * 2.4e9 * 32},
           12 * 4800e6 * 8, "AMD EPYC 9654 product page (cores x GHz x FLOPs/cycle)", "cpu"),
    # A typical desktop: 8 cores at 3.5 GHz with AVX2 (32 FP32 FLOPs/cycle), 2 x DDR4-3200.
    Device("desktop-8core-avx2", {"fp32": 8 * 3.5e9 * 32, "int8": 4 * 8 * 3.5e9 * 32}, 2 * 3200e6 * 8,
           "typical 8-core AVX2 desktop (cores x GHz x FLOPs/cycle, dual-channel DDR4-3200)", "cpu"),
)

THIS_MACHINE = "this-machine"


class DeviceError(ValueError):
    """A device file or a device name is wrong; the message is one line naming what."""


def parse_devices(data: Any, where: str) -> tuple[Device, ...]:
    """Devices from JSON data shaped like `netcost devices --format json`; DeviceError names the bad field."""
    if not isinstance(data, dict) or not isinstance(data.get("devices"), list):
        raise DeviceError(f"{where}: expected an object with a \"devices\" list")
    return tuple(parse_device(d, f"{where}: devices[{i}]") for i, d in enumerate(data["devices"]))


def parse_device(d: Any, where: str) -> Device:
    if not isinstance(d, dict):
        raise DeviceError(f"{where}: expected an object")
    name = d.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DeviceError(f"{where}.name: expected a non-empty string")
    peaks = d.get("peak_flops")
    if not isinstance(peaks, dict) or "fp32" not in peaks:
        raise DeviceError(f"{where}.peak_flops: expected an object of FLOP/s per dtype with at least \"fp32\"")
    for key, value in peaks.items():
        if key not in PEAK_DTYPES:
            raise DeviceError(f"{where}.peak_flops.{key}: unknown dtype (choose from {', '.join(PEAK_DTYPES)})")
        if not _positive(value):
            raise DeviceError(f"{where}.peak_flops.{key}: expected a positive number of FLOP/s, got {_shown(value)}")
    bw = d.get("memory_bandwidth")
    if not _positive(bw):
        raise DeviceError(f"{where}.memory_bandwidth: expected a positive number of bytes/s, got {_shown(bw)}")
    kind = d.get("kind", "gpu")
    if kind not in ("gpu", "cpu", "apple"):
        raise DeviceError(f"{where}.kind: expected gpu, cpu or apple, got {kind!r}")
    launch = d.get("launch_overhead_us")
    if launch is not None and not (launch == 0 and not isinstance(launch, bool) or _positive(launch)):
        raise DeviceError(f"{where}.launch_overhead_us: expected a number of microseconds >= 0 (the shortest time "
                          f"one kernel takes), got {_shown(launch)}")
    memory = d.get("memory_bytes")
    if memory is not None and not _positive(memory):
        raise DeviceError(f"{where}.memory_bytes: expected a positive number of bytes, got {_shown(memory)}")
    return Device(name.strip(), {k: float(peaks[k]) for k in PEAK_DTYPES if k in peaks}, float(bw),
                  str(d.get("source", "user file")), kind, None if launch is None else float(launch),
                  None if memory is None else float(memory))


def _positive(v: Any) -> bool:
    """A finite positive number that is a float too (a 400-digit integer is not: float() would overflow)."""
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not v > 0:
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def _shown(v: Any) -> str:
    text = repr(v) if not isinstance(v, int) or abs(v) < 10 ** 40 else f"a {len(str(abs(v)))}-digit integer"
    return text if len(text) <= 60 else text[:57] + "..."


def find_device(name: str, devices: tuple[Device, ...]) -> Device:
    """The device called `name` (case-insensitive), else DeviceError listing the known names."""
    key = name.strip().lower()
    for d in devices:
        if d.name.lower() == key:
            return d
    known = ", ".join(d.name for d in devices)
    hint = f" (`netcost devices --calibrate` measures {THIS_MACHINE})" if key == THIS_MACHINE else ""
    raise DeviceError(f"unknown device {name!r}{hint}; known: {known}")


def merge(*groups: tuple[Device, ...]) -> tuple[Device, ...]:
    """Later groups replace earlier devices of the same name (a user's file can correct a preset)."""
    out: dict[str, Device] = {}
    for group in groups:
        for d in group:
            out.pop(d.name.lower(), None)
            out[d.name.lower()] = d
    return tuple(out.values())
