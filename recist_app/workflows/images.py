"""Images in and out of the database: import a DICOM folder, load a series.

``recist-app import DICOM_DIR``, File → Import DICOM folder… (and drag and drop),
the demo set-up, the viewer's background loading and the patient list's
thumbnails all come here, so a folder is indexed, and a series found again, one
way only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from recist_app.imaging import discover, load_volume, thumbnail_pixels
from recist_app.store import ImportSummary
from recist_app.workflows.errors import WorkflowError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import numpy as np
    import numpy.typing as npt

    from recist_app.imaging import CancelCheck, ImageVolume, ProgressCallback
    from recist_app.store import Store

__all__ = ["ImportSummary", "import_dicom", "load_series", "series_thumbnail"]


def import_dicom(
    store: Store,
    folder: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    user: str,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ImportSummary:
    """Scan ``folder`` (headers only) and index its studies, series and files.

    Indexing is one transaction after the scan: a cancelled import writes
    nothing, and importing the same folder again adds nothing (a moved folder
    only updates file locations).

    Parameters
    ----------
    store
        The reading database.
    folder
        A folder (scanned recursively), a DICOM file or a DICOMDIR, or several
        (indexed together, in one transaction: the series a PACS retrieval
        wrote, say).
    user
        Who imports, for the audit trail.
    progress
        Called as ``progress(files_done, files_total)`` while scanning.
    cancel
        Stops the scan (nothing is written) when it returns ``True``.

    Raises
    ------
    WorkflowError
        ``folder`` does not exist.
    recist_app.imaging.LoadCancelledError
        ``cancel`` stopped the scan.
    """
    paths = (
        [Path(folder)]
        if isinstance(folder, str | os.PathLike)
        else list(map(Path, folder))
    )
    for path in paths:
        if not path.exists():
            raise WorkflowError(f"{path}: no such file or folder")
    found = discover(paths, progress=progress, cancel=cancel)
    return store.images.record_discovery(found, user=user)


def load_series(
    store: Store,
    series_instance_uid: str,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    on_preview: Callable[[ImageVolume], None] | None = None,
) -> ImageVolume:
    """The volume of an indexed series, read from the files the index knows.

    Nothing is rescanned. ``on_preview`` gets the volume being filled as soon as
    its middle slice is read (see :func:`recist_app.imaging.load_volume`).

    Raises
    ------
    recist_app.store.StoreError
        The series was never imported.
    recist_app.imaging.ImagingError
        A file cannot be read or the slices do not form one volume.
    """
    return load_volume(
        store.images.series_files(series_instance_uid),
        progress=progress,
        cancel=cancel,
        on_preview=on_preview,
    )


def series_thumbnail(store: Store, series_instance_uid: str) -> npt.NDArray[np.uint8]:
    """The middle image of an indexed series as a small 8-bit picture.

    Raises
    ------
    recist_app.store.StoreError
        The series was never imported.
    recist_app.imaging.ImagingError
        Its middle file cannot be read.
    """
    return thumbnail_pixels(store.images.series_files(series_instance_uid))
