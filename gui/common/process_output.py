"""`BoundedOutput`: what a worker QProcess writes, read as it comes, in bounded memory.

QProcess keeps everything a process writes until it is read; a model that prints in a loop grew the window by
gigabytes and froze it. This reads each chunk as it arrives and keeps the answer (stdout, up to
model_io.worker.worker_pipes.ANSWER_LIMIT) and only the tail of stderr.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QProcess

from netcost.model_io.worker.worker_pipes import ANSWER_LIMIT, STDERR_KEEP, Capped, Tail


class BoundedOutput(QObject):
    def __init__(self, process: QProcess, keep: int = STDERR_KEEP, answer_limit: int = ANSWER_LIMIT) -> None:
        super().__init__(process)
        self._process = process
        self.out = Capped(answer_limit)
        self.err = Tail(keep)
        process.readyReadStandardOutput.connect(self.read_out)
        process.readyReadStandardError.connect(self.read_err)

    def read_out(self) -> None:
        self.out.add(bytes(self._process.readAllStandardOutput().data()))

    def read_err(self) -> None:
        self.err.add(bytes(self._process.readAllStandardError().data()))

    def take(self) -> tuple[bytes, bytes]:
        """(stdout, tail of stderr) including what is still unread; call once the process has finished."""
        self.read_out()
        self.read_err()
        return self.out.bytes(), self.err.bytes()
