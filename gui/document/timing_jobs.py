"""`TimingJob`: runs one calibration or measurement child process for the app without blocking it (QProcess),
with the CLI's programs and messages (model_io.worker.calibrate, model_io.worker.measure_client)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import time

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from netcost.costing import Network
from netcost.costing.devices import DeviceError
from netcost.gui.common.process_output import BoundedOutput
from netcost.model_io.files import device_files
from netcost.model_io.worker import orphans, worker_client
from netcost.model_io.worker.calibrate import interpret_calibration
from netcost.model_io.worker.measure_client import by_index as measurement_by_index
from netcost.model_io.worker.measure_client import (
    check_dtype,
    interpret_measured,
    measure_request,
    network_source,
    renamed,
    timing_env,
)
from netcost.model_io.worker.resolve import LoadOptions, ModelError

CALIBRATION_TIMEOUT_S = 120.0


class TimingJob(QObject):
    calibrated = Signal()  # the calibration cache was written
    measured = Signal(object, object)  # CostReport, Measurement
    failed = Signal(str)  # one line for the user
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._process: QProcess | None = None
        self._output: BoundedOutput | None = None
        self._pid, self._born = 0, -1  # the run's process and its start (clock ticks, model_io.worker.orphans)
        self._kind = ""
        self._ref = self._label = ""
        self._folder: tempfile.TemporaryDirectory | None = None  # an exported layer list being measured
        self._by_index = False
        self._timeout_s = 120.0
        self._started = 0.0
        self._timed_out = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def busy(self) -> bool:
        return self._process is not None

    def calibrate(self) -> None:
        self._timeout_s = CALIBRATION_TIMEOUT_S
        self._start("calibrate", [sys.executable, "-m", "netcost.model_io.worker.calibrate"], b"")

    def measure(self, ref: str, opts: LoadOptions, repeats: int = 5) -> None:
        if self.busy:
            return
        self._ref = self._label = ref
        self._timeout_s = opts.timeout
        try:
            request = json.dumps(measure_request(ref, opts, repeats)).encode("utf-8")
        except ModelError as e:
            self.failed.emit(str(e))
            return
        self._start("measure", worker_client.worker_command(), request)

    def measure_network(self, net: Network, repeats: int = 5) -> None:
        """A layer list: its exported nn.Sequential runs, in a folder kept until the run ends."""
        if self.busy:
            return
        folder = tempfile.TemporaryDirectory(prefix="netcost-measure-")
        try:
            check_dtype(net.name, net.dtype)
            ref = network_source(net, folder.name)
        except ModelError as e:
            folder.cleanup()
            self.failed.emit(str(e))
            return
        self._folder, self._by_index = folder, True
        self.measure(ref, LoadOptions(dtype=net.dtype), repeats)
        self._label = net.name  # messages name the layer list, not the temporary file it runs as

    def _release_folder(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def _start(self, kind: str, command: list[str], stdin: bytes) -> None:
        if self.busy:
            return
        process = QProcess(self)
        env = QProcessEnvironment()
        for key, value in timing_env().items():
            env.insert(key, value)
        process.setProcessEnvironment(env)
        process.setWorkingDirectory(str(worker_client.PROJECT_ROOT))
        params = QProcess.UnixProcessParameters()  # its own session: a kill reaches anything it started
        params.flags = QProcess.UnixProcessFlag.CreateNewSession
        process.setUnixProcessParameters(params)
        process.finished.connect(self._on_process_finished)
        process.errorOccurred.connect(self._on_process_error)
        self._output = BoundedOutput(process)  # a measured model may print without end: its tail is kept
        self._process, self._kind, self._timed_out = process, kind, False
        self._started = time.monotonic()
        self._timer.start(int(max(self._timeout_s, 1.0) * 1000))
        self.busyChanged.emit(True)
        orphans.adopt_orphans()  # a measured model runs in a worker too: what it leaves comes here to be ended
        process.start(command[0], command[1:])
        self._pid = int(process.processId())
        orphans.spawned(self._pid)
        self._born = orphans.start_ticks(self._pid)
        process.write(stdin)
        process.closeWriteChannel()

    def cancel(self) -> None:
        """Stop the run now, with everything it started (its session)."""
        if self._process is not None:
            pid = int(self._process.processId())
            if pid > 0:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
            self._process.kill()
            self._process.waitForFinished(2000)

    def _on_timer_timeout(self) -> None:
        self._timed_out = True
        self.cancel()

    def _on_process_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self._process is not None:  # no finished() follows
            self._process.deleteLater()
            self._process = None
            self._timer.stop()
            self._release_folder()
            self.busyChanged.emit(False)
            self.failed.emit(f"could not start {sys.executable}")

    def _on_process_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        raw_out, raw_err = self._output.take() if self._output is not None else (b"", b"")
        out, err = raw_out.decode("utf-8", "replace"), raw_err.decode("utf-8", "replace")
        process.deleteLater()
        if self._pid > 0:  # whatever the run left, detached or not, ends with it
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._pid, signal.SIGKILL)
            orphans.end_orphans(self._pid, self._born)
        self._timer.stop()
        self._release_folder()
        by_index, self._by_index = self._by_index, False
        self.busyChanged.emit(False)
        code = code if status == QProcess.ExitStatus.NormalExit else -9
        # the worker's own watchdog kills it at the same deadline; on a busy machine it may come before our timer
        if status != QProcess.ExitStatus.NormalExit and time.monotonic() - self._started >= self._timeout_s:
            self._timed_out = True
        if self._timed_out:
            self.failed.emit(f"{self._label or 'calibration'}: no answer after {self._timeout_s:g} s; stopped")
            return
        try:
            self._finish(code, out, err, by_index)
        except (DeviceError, ModelError) as e:
            self.failed.emit(renamed(str(e), self._ref, self._label) if self._ref else str(e))

    def _finish(self, code: int, out: str, err: str, by_index: bool) -> None:
        if self._kind == "calibrate":
            device_files.save_calibration(interpret_calibration(code, out, err))
            self.calibrated.emit()
        else:
            report, measurement = interpret_measured(self._ref, code, out, err)
            self.measured.emit(report, measurement_by_index(measurement) if by_index else measurement)
