"""GUI test set-up: offscreen Qt (tests/conftest.py), settings and recovery files isolated from the user's."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths, Qt  # noqa: E402

from netcost.costing import LayerSpec, Network  # noqa: E402
from netcost.model_io.files.zoo import load_layer_list  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test gets its own INI settings folder and organisation name: the user's settings are never touched."""
    folder = tmp_path_factory.mktemp("qsettings")
    QStandardPaths.setTestModeEnabled(True)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    QCoreApplication.setOrganizationName("NetCostTests")
    QCoreApplication.setApplicationName("NetCostTests")
    yield folder


@pytest.fixture(autouse=True)
def no_keyboard_modifier_left_held() -> Iterator[None]:
    """QTest's key clicks with Ctrl (Ctrl+Down, Ctrl+,) leave the application's keyboard-modifier state at Ctrl: the
    last event it saw carried it, and no release of Ctrl itself follows. A later test's `table.selectRow(0)` then
    toggles the row like a Ctrl+click (unselects it). After each test, one key event without modifiers resets it."""
    yield
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QWidget

    if QGuiApplication.keyboardModifiers() != Qt.KeyboardModifier.NoModifier:
        sink = QWidget()
        QTest.keyRelease(sink, Qt.Key.Key_Control, Qt.KeyboardModifier.NoModifier)
        sink.deleteLater()


@pytest.fixture(autouse=True)
def no_modal_questions(monkeypatch: pytest.MonkeyPatch) -> None:
    """A window closed by pytest-qt at teardown with an edited document would ask "save changes?" in a modal box
    that no one answers; tests that care set `ask_unsaved` on their window."""
    from netcost.gui.app.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "ask_unsaved", lambda self: "discard")


@pytest.fixture
def alexnet() -> Network:
    return load_layer_list("alexnet")


def chain(n: int) -> Network:
    """n shape-preserving layers, conv and ReLU alternating (valid at any length)."""
    specs = [LayerSpec("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}) if i % 2 == 0
             else LayerSpec("ReLU") for i in range(n)]
    return Network(tuple(specs), (16, 16, 16), f"chain{n}")


@pytest.fixture
def make_chain():  # noqa: ANN201 - a factory fixture
    return chain


def open_file(qtbot, window, path: str | Path) -> bool:  # noqa: ANN001 - a MainWindow
    """Open `path` as File > Open does and wait until its thread has read it: True when the window now shows it
    (a file that cannot be read leaves the document and says why in the message bar)."""
    before = window.document.report
    assert window.open_reference(str(path))  # started: every file opens on a thread
    qtbot.waitUntil(lambda: window.file_job is None, timeout=60_000)
    QCoreApplication.processEvents()  # the pass after the document arrived (Open Recent, the last folder)
    return window.document.report is not before


@contextmanager
def opened_window(qtbot, tmp_path: Path, network: Network, monkeypatch: pytest.MonkeyPatch | None = None,  # noqa: ANN001
                  views: Collection[str] | None = None) -> Iterator:
    """A shown main window on `network` whose edits are discarded at teardown (a close would otherwise ask "save
    changes?" in a modal box no one answers). `views`: keep only the view factories of these names (() for none,
    for tests about files); all of them when None."""
    import netcost.gui.app.main_window as mw

    if views is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(mw, "VIEW_FACTORIES", [v for v in mw.VIEW_FACTORIES if v[0] in views])
    w = mw.MainWindow(autosave_dir=tmp_path / "recovery")
    w.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    qtbot.addWidget(w)
    w.document.set_network(network)
    w.show()
    try:
        yield w
    finally:
        w.document.undo_stack.setClean()
        w.close()


@pytest.fixture
def rewrites_window(qtbot, tmp_path: Path, alexnet: Network, monkeypatch: pytest.MonkeyPatch) -> Iterator:  # noqa: ANN001
    """AlexNet's window with the Rewrites panel shown and only the Compare view (the diagram and charts are tested
    in their own files)."""
    with opened_window(qtbot, tmp_path, alexnet, monkeypatch, views=("Compare",)) as w:
        w.show_rewrites()
        w.rewrites.refresh()
        yield w


def shown_diagram(qtbot, document, width: int = 500, height: int = 400):  # noqa: ANN001, ANN201 - a DiagramView
    """The diagram tab of `document` alone, shown at `width` x `height` and exposed (painted)."""
    from netcost.gui.diagram.view import DiagramView

    view = DiagramView(document)
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    return view
