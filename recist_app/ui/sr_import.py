"""File → Import DICOM SR…: measurements of TID 1500 reports into the open reading.

The SR must be of the open reading's patient; its lesions are matched by Tracking
UID or lesion id and the measurements reappear on the images
(:func:`recist_app.workflows.sr_import.merge_sr_files`, run in the background).
The import is one undo step and is autosaved like any edit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from recist_app.ui.background import TaskRunner
from recist_app.ui.error_dialog import error_boundary, show_message
from recist_app.workflows.sr_import import merge_sr_files

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from PySide6.QtCore import QSettings

    from recist_app.recist import Reading
    from recist_app.ui.document import ReadingDocument
    from recist_app.workflows.database import Store
    from recist_app.workflows.sr_import import SrImported

__all__ = ["SrImporter"]

_TITLE = "DICOM SR not imported"


class SrImporter(QObject):
    """Merges SR files into the open reading in the background, as one undo step.

    Parameters
    ----------
    document
        The open reading.
    image_files
        Called for the files of the loaded images by SOP Instance UID.
    store
        The database whose imaging index finds other measured images; may be
        ``None``.

    Signals
    -------
    imported(tuple)
        The SRs were merged (one :class:`SrImported` each).
    """

    imported = Signal(object)

    def __init__(
        self,
        document: ReadingDocument,
        image_files: Callable[[], Mapping[str, Path]],
        *,
        store: Store | None,
        settings: QSettings | None,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._image_files = image_files
        self._store = store
        self._settings = settings
        self._parent = parent
        self._runner = TaskRunner("sr-import", self)

    def choose_and_import(self) -> bool:
        """Ask for SR files, then import them; False when cancelled."""
        start = str(Path.home())
        if self._settings is not None:
            value = self._settings.value("import_sr_dir", start)
            start = value if isinstance(value, str) else start
        names, _filter = QFileDialog.getOpenFileNames(
            self._parent,
            "Import DICOM SR",
            start,
            "DICOM SR (*.dcm *.DCM *.sr);;All files (*)",
        )
        if not names:
            return False
        paths = [Path(name) for name in names]
        if self._settings is not None:
            self._settings.setValue("import_sr_dir", str(paths[0].parent))
        self.import_paths(paths)
        return True

    def import_paths(self, paths: Sequence[Path]) -> None:
        """Merge ``paths`` into the open reading; ``imported`` or a message follows."""
        before = self._document.reading
        files = dict(self._image_files())
        self._runner.submit(
            lambda _context: merge_sr_files(before, paths, files, store=self._store),
            done=lambda result: self._apply(before, paths, *result),
            failed=lambda message: show_message(self._parent, _TITLE, message),
            name="importing DICOM SR",
        )

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Block until the imports queued so far have run (tests, closing)."""
        return self._runner.wait_idle(timeout_s)

    def _apply(
        self,
        before: Reading,
        paths: Sequence[Path],
        after: Reading,
        done: tuple[SrImported, ...],
    ) -> None:
        if self._document.reading is not before:
            show_message(
                self._parent,
                _TITLE,
                "the reading changed while the SR was read; import it again",
            )
            return
        names = ", ".join(path.name for path in paths)
        with error_boundary(self._parent, _TITLE):
            self._document.replace(after, f"Import DICOM SR {names}")
            self.imported.emit(done)
