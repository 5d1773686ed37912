"""`ModelLoader`: loads a model reference without ever blocking the event loop.

Layer lists (`zoo:NAME` of the built-in lists, `.json`) are pure Python and load in-process. Everything else runs
in the isolated worker (`python -m netcost.model_io.worker.worker`, protocol in `worker_client.py`) through a
`QProcess`: the request goes to its stdin, one JSON response comes back on stdout. Cancel and the timeout kill the
process. The worker's answer is decoded, costed and prepared for the views (`preparers`, handed in by the app
shell) on a `LoadJob` thread (gui/document/load_job.py): a traced Llama-70B took 1.1 s of that on the GUI thread.
The loader only reports (`loaded` / `failed`, once that job is done); it never touches a document, so a failure
cannot leave a half-loaded one behind.

Warm worker: a second after a worker load ends, the loader starts a spare worker
(`netcost.model_io.worker.worker --warm`) that imports torch and waits; the next load writes its request to it, so
it costs only the model's build and trace. Each spare runs one model and ends, as a fresh worker does (a crash or a
polluted interpreter stays with that model), and the next spare is started after that load. A spare that dies while
waiting is dropped and the next load starts a fresh worker. `NETCOST_WARM_WORKER=0` turns the spare off.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from netcost.costing import FormatError
from netcost.costing.chain import graph_from_network
from netcost.costing.graph import Graph
from netcost.gui.common.plain_text import screen_text
from netcost.gui.common.process_output import BoundedOutput
from netcost.gui.document.document_types import Loaded
from netcost.gui.document.load_job import LoadJob, Preparer, Progress, Stage
from netcost.model_io.worker import orphans, worker_client
from netcost.model_io.worker.resolve import LoadOptions, ModelError, is_layer_list, load_layer_list
from netcost.model_io.worker.worker import WARM_MARK

WARM_ENV = "NETCOST_WARM_WORKER"  # "0": no spare worker (each load imports torch anew)
SPARE_DELAY_MS = 1000  # after a load: the window paints the new model first, then the spare imports torch


class ModelLoader(QObject):
    started = Signal(str)  # the reference being loaded
    loaded = Signal(str, object)  # reference, Loaded: a layer list's or graph file's graph, a traced model's report
    failed = Signal(str, str)  # reference, one clear message
    canceled = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None, command: list[str] | None = None,
                 warm: bool | None = None, preparers: tuple[Preparer, ...] = ()) -> None:
        """`command` replaces the worker's command line (tests use a deliberately slow or crashing stand-in).
        `warm`: keep a spare worker (default: yes for the real worker, unless NETCOST_WARM_WORKER=0).
        `preparers`: what the views work out ahead on a traced graph, on the job's thread."""
        super().__init__(parent)
        self._command = command
        self.preparers = preparers
        self._job: LoadJob | None = None  # the finished worker's answer being costed and prepared
        self.warm = (command is None and os.environ.get(WARM_ENV, "1") != "0") if warm is None else warm
        self._spare: QProcess | None = None
        self._spare_command: list[str] = []
        self._spare_pid = 0
        self._spare_born = -1  # the spare's start (clock ticks): what it leaves behind started after
        self.spare_ready = False  # the spare has torch imported (it wrote WARM_MARK)
        self.used_spare = False  # the current (or last) worker load runs in a spare started before it
        self.spare_delay_ms = SPARE_DELAY_MS
        self._spare_timer = QTimer(self)
        self._spare_timer.setSingleShot(True)
        self._spare_timer.timeout.connect(self.prestart)
        self._process: QProcess | None = None
        self._output: BoundedOutput | None = None  # the running load's output, read as it comes
        self._ref = ""
        self._started_at = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._pid = 0
        self._born = -1  # the running worker's start (clock ticks, model_io.worker.orphans)
        self._ending = ""  # why we killed the worker ("cancel", "timeout"), if we did
        self._timeout = 0.0
        self.failure_kind = ""  # the worker's `kind` of the last failure ("pickle", "timeout", ...), "" if none
        self.grace_s = 2.0  # the worker enforces the time limit itself; this kill backs it up a little later

    @property
    def busy(self) -> bool:
        return self._process is not None or self._job is not None

    @property
    def reference(self) -> str:
        return self._ref

    def elapsed(self) -> float:
        return time.monotonic() - self._started_at if self.busy else 0.0

    def pid(self) -> int:
        return self._pid if self._process is not None else 0

    def spare_pid(self) -> int:
        """The waiting spare worker's pid, 0 without one."""
        return self._spare_pid if self._spare is not None else 0

    # ---- the spare worker ----------------------------------------------------------------------------------
    def prestart(self) -> bool:
        """Start a spare worker now unless there is one (or the loader keeps none). True when one was started."""
        if not self.warm or self._spare is not None:
            return False
        try:
            command = self._command or worker_client.worker_command()
        except ModelError:  # an unusable NETCOST_SANDBOX: the load itself will say so
            return False
        process = self._new_process()
        process.finished.connect(self._on_spare_finished)
        process.errorOccurred.connect(self._on_spare_error)
        process.readyReadStandardError.connect(self._on_spare_stderr)
        self._spare, self._spare_command, self.spare_ready = process, command, False
        orphans.adopt_orphans()
        process.start(command[0], [*command[1:], "--warm"])
        self._spare_pid = int(process.processId())
        orphans.spawned(self._spare_pid)
        self._spare_born = orphans.start_ticks(self._spare_pid)
        return True

    def shutdown(self) -> None:
        """Cancel a load and end the spare (the window is closing); no job thread outlives the loader."""
        self._spare_timer.stop()
        self.cancel()
        self._take_spare([])  # matches no load: ended
        for job in self.findChildren(LoadJob):
            job.cancel()
            job.wait()

    def _take_spare(self, command: list[str]) -> QProcess | None:
        """The spare for a load with `command`, detached from its waiting handlers; None (and the spare ended)
        when there is none, it has died, or it was started with another command."""
        process = self._spare
        if process is None:
            return None
        self._spare = None
        for signal_, slot in ((process.finished, self._on_spare_finished), (process.errorOccurred,
                              self._on_spare_error), (process.readyReadStandardError, self._on_spare_stderr)):
            signal_.disconnect(slot)
        if process.state() != QProcess.ProcessState.Running or command != self._spare_command:
            self._kill_spare(process)
            return None
        return process

    def _kill_spare(self, process: QProcess) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.killpg(self._spare_pid, signal.SIGKILL)  # its group: the spare (its watchdog ends itself)
        process.waitForFinished(2000)
        process.deleteLater()
        orphans.end_orphans(self._spare_pid, self._spare_born)

    def _on_spare_stderr(self) -> None:
        if self._spare is not None and WARM_MARK in bytes(self._spare.readAllStandardError().data()):
            self.spare_ready = True

    def _on_spare_finished(self, *args: object) -> None:
        """The spare died while waiting (killed, out of memory): dropped; the next load starts a fresh worker."""
        self._take_spare([])

    def _on_spare_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._on_spare_finished()

    # ---- loading -------------------------------------------------------------------------------------------
    def load(self, ref: str, opts: LoadOptions | None = None) -> None:
        """Start loading `ref`; a load already running is cancelled first."""
        opts = opts or LoadOptions()
        if self.busy:
            self.cancel()
        if self._command is None and is_layer_list(ref):
            self._load_layer_list(ref, opts)
            return
        self._start_worker(ref, opts)

    def _load_layer_list(self, ref: str, opts: LoadOptions) -> None:
        from netcost.model_io.worker.resolve import apply_options

        self.started.emit(ref)
        try:
            graph = graph_from_network(apply_options(load_layer_list(ref), opts))
        except (ModelError, FormatError) as e:
            try:  # a graph file (branches): loaded as the graph it is
                from netcost.model_io.worker.resolve import load_graph_ref

                graph = load_graph_ref(ref, opts)
            except (ModelError, FormatError):
                self._fail(ref, str(e))
                return
        self.loaded.emit(ref, Loaded(graph))

    def _start_worker(self, ref: str, opts: LoadOptions) -> None:
        self.failure_kind = ""
        try:
            command = self._command or worker_client.worker_command()
        except ModelError as e:  # an unusable NETCOST_SANDBOX: said, never raised into Qt
            self.started.emit(ref)
            self._fail(ref, f"{ref}: {e}")
            return
        if self._command is None:  # a file that is not what its extension says: said without starting a worker
            try:
                worker_client.check_file(ref, opts)
            except worker_client.WorkerError as e:
                self.started.emit(ref)
                self.failure_kind = str(e.kind)
                self._fail(ref, _one_message(ref, e))
                return
        request = json.dumps(worker_client.request_for(ref, opts)).encode("utf-8")
        self._spare_timer.stop()
        spare = self._take_spare(command) if self.warm else None
        self.used_spare = spare is not None
        process = spare or self._new_process()
        process.finished.connect(self._on_process_finished)
        process.errorOccurred.connect(self._on_process_error)
        self._output = BoundedOutput(process)
        self._process, self._ref, self._ending = process, ref, ""
        self._timeout = max(opts.timeout, 0.1)
        self._started_at = time.monotonic()
        self._timer.start(int((max(opts.timeout, 0.1) + self.grace_s) * 1000))
        self.started.emit(ref)
        self.busyChanged.emit(True)
        if spare is None:
            orphans.adopt_orphans()  # however the worker ends, what the model started comes here to be ended
            process.start(command[0], command[1:])
            self._pid = int(process.processId())
            orphans.spawned(self._pid)
            self._born = orphans.start_ticks(self._pid)
        else:
            self._pid, self._born = self._spare_pid, self._spare_born
        process.write(request)
        process.closeWriteChannel()

    def _new_process(self) -> QProcess:
        """A worker process, not started: the clean environment, the project root, its own session (so a kill
        reaches the worker and anything it started, as the CLI does)."""
        process = QProcess(self)
        env = QProcessEnvironment()
        for key, value in worker_client.worker_env().items():
            env.insert(key, value)
        process.setProcessEnvironment(env)
        process.setWorkingDirectory(str(worker_client.PROJECT_ROOT))
        params = QProcess.UnixProcessParameters()
        params.flags = QProcess.UnixProcessFlag.CreateNewSession
        process.setUnixProcessParameters(params)
        return process

    def cancel(self) -> None:
        """Kill the worker now (or drop the answer being prepared). The current document is untouched; `canceled`
        follows."""
        if self._process is not None:
            self._ending = "cancel"
            self._kill()
        elif self._job is not None:
            job, self._job = self._job, None
            job.cancel()  # it stops at its next progress point; what it sends after this is ignored
            self.busyChanged.emit(False)
            self.canceled.emit(self._ref)

    def _kill(self) -> None:
        process = self._process
        if process is None:
            return
        try:
            os.killpg(self._pid, signal.SIGKILL)  # the whole session: the worker and its children
        except (ProcessLookupError, PermissionError, OSError):
            process.kill()
        # SIGKILL is immediate; waiting a moment reaps the process so no zombie outlives the cancel
        process.waitForFinished(2000)

    def _end_group(self) -> None:
        """The worker has finished (Qt reaped it): its group, then what it left re-parented to the window."""
        if self._pid > 0:
            with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
                os.killpg(self._pid, signal.SIGKILL)
            orphans.end_orphans(self._pid, self._born)

    def _on_timer_timeout(self) -> None:
        if self._process is not None:
            self._ending = "timeout"
            self._kill()

    def _on_process_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self._process is not None:
            self._finish_failed(f"cannot start the model worker ({self._process.errorString()})")

    def _on_process_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        process = self._process
        if process is None:
            return
        ref, ending = self._ref, self._ending
        raw_out, raw_err = self._output.take() if self._output is not None else (b"", b"")
        out = raw_out.decode("utf-8", "replace")
        err = raw_err.replace(WARM_MARK, b"", 1).decode("utf-8", "replace")
        if not ending and time.monotonic() - self._started_at >= self._timeout and '"ok"' not in out:
            ending = "timeout"  # the worker's watchdog ended it at its deadline
        self._end_group()  # whatever the model started does not outlive the load
        job = None
        if ending not in ("cancel", "timeout"):
            if status == QProcess.ExitStatus.CrashExit:
                code = -signal.SIGKILL if code == 0 else -abs(code)  # Qt reports the signal as a crash, not a code
            # still busy: the answer is decoded, costed and prepared on the job's thread
            job = self._job = LoadJob(_answer_reader(ref, code, out, err), self.preparers, self)
        self._release()
        if ending == "cancel":
            self.canceled.emit(ref)
            return
        if ending == "timeout" or job is None:
            self._fail(ref, f"{ref}: no answer within the time limit (the model's code hangs or is very "
                                  "slow); the worker was stopped")
            return
        job.loaded.connect(lambda loaded: self._job_ended(job) and self.loaded.emit(ref, loaded))
        job.failed.connect(lambda _message: self._job_ended(job) and self._job_failed(ref, job.error))
        job.canceled.connect(lambda: self._job_ended(job))
        # a finished job stays the loader's child (it lets go of the answer itself): a deleteLater of it crashed
        # PySide when the loader went right after
        job.start()

    def _job_ended(self, job: LoadJob) -> bool:
        """True when `job` is still the load the loader waits for (a cancelled or replaced one is ignored)."""
        job.wait()  # it has sent its last signal: its thread ends now (never one running when the loader goes)
        if job is not self._job:
            return False
        self._job = None
        self.busyChanged.emit(False)
        return True

    def _job_failed(self, ref: str, error: Exception | None) -> None:
        self.failure_kind = str(getattr(error, "kind", ""))
        self._fail(ref, _one_message(ref, error) if isinstance(error, ModelError) else
                   f"{ref}: the worker's answer could not be read ({error})")

    def _fail(self, ref: str, message: str) -> None:
        """Every failure, with what the model or its file wrote escaped as the window shows it."""
        self.failed.emit(ref, screen_text(message))

    def _finish_failed(self, message: str) -> None:
        ref = self._ref
        self._release()
        self._fail(ref, f"{ref}: {message}")

    def _release(self) -> None:
        self._timer.stop()
        if self._process is not None:
            self._process.deleteLater()
        self._process, self._output = None, None
        if self.warm and self._spare is None:  # the next model's worker, once this one is on screen
            self._spare_timer.start(self.spare_delay_ms)
        self.busyChanged.emit(self.busy)


def _answer_reader(ref: str, code: int, out: str, err: str):  # noqa: ANN202 - a load_job.Reader
    """The graph in a finished worker's answer, decoded on the job's thread; a WorkerError says what happened."""

    def read(progress: Progress) -> tuple[Graph, dict[str, object]]:
        progress(Stage.DECODE, 0, 1)
        try:
            return worker_client.interpret_graph(ref, code, out, err), {}
        except (KeyError, TypeError) as e:  # a garbled answer is a worker failure, in one line
            raise ModelError(f"{ref}: the worker's answer could not be read ({e})") from None

    return read


def _one_message(ref: str, error: ModelError) -> str:
    """The worker's one line, prefixed with the reference, plus the trimmed model traceback when there is one."""
    text = str(error)
    if not text.startswith(ref):
        text = f"{ref}: {text}"
    detail = str(getattr(error, "detail", "") or "").strip()
    if detail and getattr(error, "kind", "") != "died":
        text += "\n" + "\n".join(detail.splitlines()[-6:])
    return text
