"""Import DICOM SR measurement reports (``recist-app import-sr``).

The workstation's File → Import DICOM SR… merges them into the open reading.

Each SR (TID 1500, ours or another highdicom-based tool's) is merged into a
reading of its patient by :func:`recist_app.exchange.sr_import.import_sr_file`:
lesions by Tracking UID or lesion id, measurements with their drawn geometry. A
diameter whose value is not the length of its drawn line (to 0.1 mm), or a line
drawn on an image of another visit's study, is refused in one line. The
command line merges into the stored readings and saves them only when every file
imported; the workstation merges into the open reading, which it records as one
undo step (and autosaves like any edit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recist_app.exchange import index_images
from recist_app.exchange.sr_import import (
    SrImported,
    import_sr_file,
    read_measurement_observer,
    read_sr_file,
)
from recist_app.recist import drawn_length_mismatches
from recist_app.store import ReadingStatus
from recist_app.workflows.errors import WorkflowError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from recist_app.recist import Criteria, Reading
    from recist_app.store import ReadingRecord, Store

__all__ = ["SrImported", "import_sr_files", "merge_sr_files"]


def merge_sr_files(
    reading: Reading,
    paths: Sequence[Path],
    image_files: Mapping[str, Path],
    *,
    store: Store | None = None,
) -> tuple[Reading, tuple[SrImported, ...]]:
    """``reading`` with the measurements of every SR at ``paths`` merged in.

    Parameters
    ----------
    reading
        The reading of the SRs' patient.
    paths
        TID 1500 SR files, merged in order.
    image_files
        Files of the measured images by SOP Instance UID (e.g. the loaded series).
    store
        Where to look up measured images missing from ``image_files`` (its
        imaging index); ``None``: only ``image_files``.

    Raises
    ------
    ExchangeError
        One line naming the file: not an SR, another patient's, an unknown visit
        or lesion, or a measured image that is not available.
    """
    if not paths:
        raise WorkflowError("no SR file given")
    find = store.images.image_files if store is not None else None
    done: list[SrImported] = []
    for path in paths:
        reading, imported = import_sr_file(reading, path, image_files, find_images=find)
        # A diameter drawn is the length of its line (to 0.1 mm), never another
        # value: what the SR changed is checked before anything is kept.
        for mismatch in drawn_length_mismatches(
            reading, visit=imported.visit, lesion_ids=frozenset(imported.lesion_ids)
        ):
            raise WorkflowError(f"{path}: SR import: {mismatch}")
        done.append(imported)
    return reading, tuple(done)


def _choose_record(
    path: Path,
    records: Sequence[ReadingRecord],
    patient: str,
    observer: str | None,
    store_url: str,
) -> ReadingRecord:
    if not records:
        raise WorkflowError(
            f"{path}: patient {patient} has no reading in {store_url} "
            "(--criteria/--reader may exclude it)"
        )
    if len(records) == 1:
        return records[0]
    if observer:
        name = observer.replace("^", " ").strip()
        same = [r for r in records if r.reader and r.reader.strip() == name]
        if len(same) == 1:
            return same[0]
    labels = ", ".join(r.label for r in records)
    raise WorkflowError(
        f"{path}: patient {patient} has {len(records)} readings ({labels}); "
        "choose one with --reader and --criteria"
    )


def import_sr_files(
    store: Store,
    paths: Sequence[Path],
    *,
    user: str,
    images_folder: Path | None = None,
    criteria: Criteria | None = None,
    reader: str | None = None,
) -> tuple[SrImported, ...]:
    """Merge the SRs at ``paths`` into their patients' stored readings.

    All files are read and merged first; the readings are saved only when every
    file imported, so a bad file changes nothing.

    Parameters
    ----------
    store
        The reading database.
    paths
        TID 1500 SR files.
    user
        Who imports, for the audit trail.
    images_folder
        A DICOM folder scanned for the measured images; default: the database's
        imaging index.
    criteria, reader
        Choose among several readings of a patient (default: the only one, or the
        one whose reader is the SR's person observer).

    Raises
    ------
    WorkflowError, ExchangeError
        One line naming the file or the reading; nothing was saved.
    StoreError
        The database refused a save (a reading changed meanwhile, say).
    """
    if not paths:
        raise WorkflowError("no SR file given")
    image_files = index_images(images_folder) if images_folder is not None else None
    pending: dict[tuple[str, str, str], tuple[Reading, ReadingRecord, list[str]]] = {}
    done: list[SrImported] = []
    for path in paths:
        sr = read_sr_file(path)
        patient = str(sr.PatientID).strip()
        observer = read_measurement_observer(sr, path)
        records = [
            r
            for r in store.readings.list(patient)
            if (criteria is None or r.criteria is criteria)
            and (reader is None or r.reader == reader)
        ]
        record = _choose_record(path, records, patient, observer, store.url)
        if record.status is ReadingStatus.SIGNED:
            raise WorkflowError(
                f"{path}: {record.label} is signed; amend it before importing"
            )
        key = (record.patient_id, record.criteria.value, record.reader)
        reading = pending[key][0] if key in pending else store.readings.load(*key)
        updated, (imported,) = merge_sr_files(
            reading,
            [path],
            image_files or {},
            store=store if image_files is None else None,
        )
        names = [*pending[key][2], path.name] if key in pending else [path.name]
        pending[key] = (updated, record, names)
        done.append(imported)
    for reading, record, names in pending.values():
        store.readings.save(
            reading,
            user=user,
            reason=f"imported DICOM SR {', '.join(names)}",
            base_revision=record.revision,
        )
    return tuple(done)
