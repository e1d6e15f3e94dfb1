"""File → Import DICOM SR…: measurements of TID 1500 reports into the open reading.

The SR must be of the open reading's patient; its lesions are matched by Tracking
UID or lesion id and the measurements reappear on the images. The import is one
undo step and is autosaved like any edit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from recist_app.exchange.sr_import import import_sr_file
from recist_app.ui.error_dialog import show_error
from recist_app.ui.export_dialog import volume_files

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QWidget

    from recist_app.exchange.sr_import import SrImported
    from recist_app.imaging import ImageVolume
    from recist_app.ui.document import ReadingDocument
    from recist_app.ui.reading_store import StoreSaver

__all__ = ["choose_and_import_sr", "import_sr_files"]


def import_sr_files(
    document: ReadingDocument,
    paths: Sequence[Path],
    volumes: Mapping[str, ImageVolume],
    *,
    reading_store: StoreSaver | None = None,
) -> tuple[SrImported, ...]:
    """Merge the SRs at ``paths`` into the open reading as one undo step.

    Measured images come from the loaded volumes, else from the database's
    imaging index.

    Raises
    ------
    ExchangeError
        One line naming the file (not an SR, another patient, unknown lesion or
        visit, measured image not available).
    DocumentLockedError
        The reading is signed.
    """
    reading = document.reading
    files = volume_files(volumes)
    find = reading_store.store.images.image_files if reading_store is not None else None
    done: list[SrImported] = []
    for path in paths:
        reading, imported = import_sr_file(reading, path, files, find_images=find)
        done.append(imported)
    names = ", ".join(path.name for path in paths)
    document.replace(reading, f"Import DICOM SR {names}")
    return tuple(done)


def choose_and_import_sr(
    parent: QWidget,
    document: ReadingDocument,
    volumes: Mapping[str, ImageVolume],
    *,
    reading_store: StoreSaver | None,
    settings: QSettings | None,
) -> tuple[SrImported, ...]:
    """Ask for SR files, import them; errors are shown, not raised."""
    start = str(Path.home())
    if settings is not None:
        value = settings.value("import_sr_dir", start)
        start = value if isinstance(value, str) else start
    names, _filter = QFileDialog.getOpenFileNames(
        parent, "Import DICOM SR", start, "DICOM SR (*.dcm *.DCM *.sr);;All files (*)"
    )
    if not names:
        return ()
    paths = [Path(name) for name in names]
    if settings is not None:
        settings.setValue("import_sr_dir", str(paths[0].parent))
    try:
        return import_sr_files(document, paths, volumes, reading_store=reading_store)
    except Exception as error:
        show_error(parent, "DICOM SR not imported", error)
        return ()
