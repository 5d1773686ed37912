"""`TimingJob`: runs one calibration or measurement child process for the app without blocking it (QProcess),
with the CLI's programs and messages (model_io.calibrate, model_io.measure_client)."""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from costing.devices import DeviceError
from model_io import device_files, worker_client
from model_io.calibrate import interpret_calibration
from model_io.measure_client import interpret_measured, measure_request, timing_env
from model_io.resolve import LoadOptions, ModelError


class TimingJob(QObject):
    calibrated = Signal()  # the calibration cache was written
    measured = Signal(object, object)  # CostReport, Measurement
    failed = Signal(str)  # one line for the user
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._process: QProcess | None = None
        self._kind = ""
        self._ref = ""

    @property
    def busy(self) -> bool:
        return self._process is not None

    def calibrate(self) -> None:
        self._start("calibrate", [sys.executable, "-m", "model_io.calibrate"], b"")

    def measure(self, ref: str, opts: LoadOptions, repeats: int = 5) -> None:
        self._ref = ref
        request = json.dumps(measure_request(ref, opts, repeats)).encode("utf-8")
        self._start("measure", worker_client.worker_command(), request)

    def _start(self, kind: str, command: list[str], stdin: bytes) -> None:
        if self.busy:
            return
        process = QProcess(self)
        env = QProcessEnvironment()
        for key, value in timing_env().items():
            env.insert(key, value)
        process.setProcessEnvironment(env)
        process.setWorkingDirectory(str(worker_client.PROJECT_ROOT))
        process.finished.connect(self._on_process_finished)
        self._process, self._kind = process, kind
        self.busyChanged.emit(True)
        process.start(command[0], command[1:])
        process.write(stdin)
        process.closeWriteChannel()

    def cancel(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.waitForFinished(2000)

    def _on_process_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        out = bytes(process.readAllStandardOutput().data()).decode("utf-8", "replace")
        err = bytes(process.readAllStandardError().data()).decode("utf-8", "replace")
        process.deleteLater()
        self.busyChanged.emit(False)
        code = code if status == QProcess.ExitStatus.NormalExit else -9
        try:
            self._finish(code, out, err)
        except (DeviceError, ModelError) as e:
            self.failed.emit(str(e))

    def _finish(self, code: int, out: str, err: str) -> None:
        if self._kind == "calibrate":
            device_files.save_calibration(interpret_calibration(code, out, err))
            self.calibrated.emit()
        else:
            report, measurement = interpret_measured(self._ref, code, out, err)
            self.measured.emit(report, measurement)
