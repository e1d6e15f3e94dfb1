"""Images from the PACS and reports back to it.

``recist-app pacs echo``, ``pacs find``, ``import --from SERVER``, ``export
--format sr --send SERVER``, and File → Open from PACS… / Send report to PACS
all come here, over DICOMweb or DIMSE alike (:mod:`recist_app.pacs`).

:func:`retrieve_patient` pulls a patient's studies and indexes them exactly as
a folder import does (:func:`recist_app.workflows.images.import_dicom`): series
already indexed are skipped, series without images (SR, key objects…) are left
on the server, every instance is written whole into the download folder (so a
cancelled or failed retrieval resumes where it stopped), and indexing is one
transaction once every series has arrived — a cancel or a failure (the study
removed during the retrieval, say) indexes nothing. :func:`send_reports` stores
SR files in their studies on the server and says what it accepted.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from recist_app.imaging.progress import raise_if_cancelled
from recist_app.pacs import (
    DEFAULT_CALLING_AE_TITLE,
    EchoOutcome,
    PacsError,
    PacsNotFoundError,
    PacsServer,
    PacsSettings,
    SentFile,
    SeriesMatch,
    StudyMatch,
    StudyQuery,
    connect,
    download_series,
    load_settings,
    parse_date_range,
    send_files,
    series_folder,
)
from recist_app.store import ImportSummary
from recist_app.workflows.errors import WorkflowError
from recist_app.workflows.images import import_dicom

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from recist_app.imaging import CancelCheck
    from recist_app.pacs import InstanceMatch, PacsClient
    from recist_app.store import Store

__all__ = [
    "DEFAULT_CALLING_AE_TITLE",
    "EchoOutcome",
    "PacsError",
    "PacsImport",
    "PacsServer",
    "PacsSettings",
    "ReportsSent",
    "SentFile",
    "StudyMatch",
    "StudyQuery",
    "default_download_folder",
    "echo_server",
    "find_studies",
    "load_pacs_settings",
    "parse_date_range",
    "resolve_server",
    "retrieve_patient",
    "send_reports",
    "studies_csv_text",
    "studies_table_text",
]


def load_pacs_settings(path: Path | None = None) -> PacsSettings:
    """The PACS settings: servers, our AE title, the download folder.

    Read from ``path``, ``$RECIST_APP_PACS_SETTINGS`` or the user config
    folder's ``pacs.toml`` (none there: no configured server).

    Raises
    ------
    PacsSettingsError
        The file cannot be read or holds an invalid entry (one line naming it).
    """
    return load_settings(path)


def resolve_server(
    text: str,
    settings: PacsSettings | None = None,
    *,
    calling_ae_title: str | None = None,
) -> PacsServer:
    """The server named ``text`` in the settings, or at URL ``text``.

    ``calling_ae_title`` replaces our AE title for this server.

    Raises
    ------
    PacsSettingsError
        Neither a configured name nor a DICOMweb or DIMSE URL.
    """
    chosen = settings if settings is not None else load_settings()
    return chosen.server(text, calling_ae_title=calling_ae_title)


def default_download_folder(settings: PacsSettings | None = None) -> Path:
    """Where retrieved images are kept.

    The settings' ``download_folder``, else ``pacs`` in the user data folder.
    """
    if settings is not None and settings.download_folder is not None:
        return settings.download_folder
    import platformdirs

    return Path(platformdirs.user_data_dir("recist-app", appauthor=False)) / "pacs"


def echo_server(server: PacsServer) -> EchoOutcome:
    """C-ECHO (DIMSE) or a one-study QIDO-RS query (DICOMweb).

    Raises
    ------
    PacsError
        The server cannot be reached, refuses us or answers nonsense.
    """
    with contextlib.closing(connect(server)) as client:
        return client.echo()


def _study_order(study: StudyMatch) -> tuple[str, str, str, str]:
    return (
        study.patient_id,
        study.study_date.isoformat() if study.study_date else "",
        study.study_time,
        study.study_instance_uid,
    )


def find_studies(server: PacsServer, query: StudyQuery) -> tuple[StudyMatch, ...]:
    """The studies on ``server`` matching ``query``, by patient, date and time.

    Raises
    ------
    PacsError
        The server cannot be reached, refuses the query or answers nonsense.
    """
    with contextlib.closing(connect(server)) as client:
        found = client.find_studies(query)
    return tuple(sorted(found, key=_study_order))


_COLUMNS = (
    ("patient_id", "patient"),
    ("patient_name", "name"),
    ("study_date", "date"),
    ("modalities", "modalities"),
    ("series", "series"),
    ("instances", "images"),
    ("accession_number", "accession"),
    ("study_description", "description"),
    ("study_instance_uid", "StudyInstanceUID"),
)


def _cells(study: StudyMatch) -> tuple[str, ...]:
    return (
        study.patient_id,
        study.patient_name,
        study.study_date.isoformat() if study.study_date else "",
        "/".join(study.modalities),
        "" if study.series_count is None else str(study.series_count),
        "" if study.instance_count is None else str(study.instance_count),
        study.accession_number,
        study.description,
        study.study_instance_uid,
    )


def studies_csv_text(studies: Sequence[StudyMatch]) -> str:
    """One CSV row per study with its StudyInstanceUID, after a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(name for name, _title in _COLUMNS)
    for study in studies:
        writer.writerow(_cells(study))
    return buffer.getvalue()


def studies_table_text(studies: Sequence[StudyMatch]) -> str:
    """The studies as an aligned text table (``no study found`` when empty)."""
    if not studies:
        return "no study found\n"
    table = [tuple(title for _name, title in _COLUMNS), *map(_cells, studies)]
    widths = [max(len(line[i]) for line in table) for i in range(len(_COLUMNS))]
    lines = (
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in table
    )
    return "".join(line.rstrip() + "\n" for line in lines)


# ---------------------------------------------------------------- retrieval
@dataclass(frozen=True, slots=True, kw_only=True)
class PacsImport:
    """What retrieving a patient from a PACS did.

    Parameters
    ----------
    server
        The server, as messages name it.
    patient_id
        The patient retrieved.
    studies
        The studies the server holds for the patient (the one asked for).
    summary
        What indexing the retrieved series changed (as a folder import says).
    images_retrieved
        Images the server sent this time.
    images_resumed
        Images already in the download folder from an interrupted retrieval.
    skipped
        One line per series not retrieved, naming it and saying why (already
        indexed, holds no images).
    folder
        The download folder.
    """

    server: str
    patient_id: str
    studies: tuple[StudyMatch, ...]
    summary: ImportSummary
    images_retrieved: int
    images_resumed: int
    skipped: tuple[str, ...]
    folder: Path

    def __str__(self) -> str:
        resumed = f" ({self.images_resumed} already downloaded)" * bool(
            self.images_resumed
        )
        return (
            f"{self.server}: patient {self.patient_id}, {len(self.studies)} "
            f"studies, {self.images_retrieved} images retrieved{resumed}; "
            f"{self.summary}"
        )


@dataclass(frozen=True, slots=True)
class _Planned:
    series: SeriesMatch
    instances: tuple[InstanceMatch, ...]


def _plan(
    client: PacsClient,
    studies: Sequence[StudyMatch],
    indexed: set[str],
    cancel: CancelCheck | None,
) -> tuple[list[_Planned], list[str]]:
    planned: list[_Planned] = []
    skipped: list[str] = []
    for study in studies:
        series_found = client.find_series(study.study_instance_uid)
        if not series_found:
            skipped.append(
                f"study {study.study_instance_uid}: the server lists no series"
            )
        for series in series_found:
            raise_if_cancelled(cancel, "retrieving from the PACS")
            name = f"series {series.series_instance_uid} of study "
            name += study.study_instance_uid
            if not series.holds_images:
                skipped.append(
                    f"{name} ({series.modality}): holds no images to read; "
                    "not retrieved"
                )
                continue
            if series.series_instance_uid in indexed:
                skipped.append(f"{name}: already indexed; not retrieved")
                continue
            instances = client.find_instances(
                study.study_instance_uid, series.series_instance_uid
            )
            if not instances:
                skipped.append(f"{name}: the server lists no images")
                continue
            planned.append(_Planned(series=series, instances=instances))
    return planned, skipped


def _study_matches(
    client: PacsClient, patient_id: str, study_instance_uids: Sequence[str]
) -> tuple[StudyMatch, ...]:
    if not patient_id.strip():
        raise WorkflowError("retrieving from a PACS needs the patient id")
    if any(char in patient_id for char in "*?"):
        raise WorkflowError(
            f"patient {patient_id!r}: give one patient id, not a pattern "
            "(find studies with `recist-app pacs find`)"
        )
    wanted = set(study_instance_uids)
    query = StudyQuery(
        patient_id=patient_id,
        study_instance_uid=study_instance_uids[0] if len(wanted) == 1 else "",
    )
    studies = tuple(
        sorted(
            (
                study
                for study in client.find_studies(query)
                if study.patient_id == patient_id
                and (not wanted or study.study_instance_uid in wanted)
            ),
            key=_study_order,
        )
    )
    missing = sorted(wanted - {study.study_instance_uid for study in studies})
    if missing or not studies:
        which = f" with StudyInstanceUID {missing[0]}" if missing else ""
        raise PacsNotFoundError(
            f"{client.server.label}: no study of patient {patient_id}{which} on the "
            "server"
        )
    return studies


def retrieve_patient(
    store: Store,
    server: PacsServer,
    *,
    patient_id: str,
    user: str,
    study_instance_uids: Sequence[str] = (),
    download_folder: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    cancel: CancelCheck | None = None,
) -> PacsImport:
    """Retrieve a patient's studies (or some) from ``server`` and index them.

    Studies are retrieved oldest first, each series with every image the
    server lists for it.

    Parameters
    ----------
    store
        The reading database.
    server
        The PACS.
    patient_id
        The patient (exactly; no wildcards).
    user
        Who imports, for the audit trail.
    study_instance_uids
        Only these studies (default: every study of the patient).
    download_folder
        Where the images are kept (default: :func:`default_download_folder`).
    progress
        ``progress(stage, done, total)``: ``retrieving`` counts images,
        ``indexing`` the files scanned.
    cancel
        Stops the retrieval (the images written stay for next time; nothing is
        indexed) when it returns ``True``.

    Raises
    ------
    PacsError
        The server cannot be reached, refuses us, has no such study, removed it
        during the retrieval, or answered something that is not DICOM; nothing
        is indexed.
    recist_app.imaging.LoadCancelledError
        ``cancel`` stopped it; nothing is indexed.
    """
    with contextlib.closing(connect(server)) as client:
        return _retrieve(
            store,
            client,
            patient_id=patient_id,
            user=user,
            study_instance_uids=tuple(study_instance_uids),
            root=download_folder or default_download_folder(),
            report=progress or (lambda _stage, _done, _total: None),
            cancel=cancel,
        )


def _retrieve(
    store: Store,
    client: PacsClient,
    *,
    patient_id: str,
    user: str,
    study_instance_uids: tuple[str, ...],
    root: Path,
    report: Callable[[str, int, int], None],
    cancel: CancelCheck | None,
) -> PacsImport:
    server = client.server
    studies = _study_matches(client, patient_id, study_instance_uids)
    indexed = {
        series.series_instance_uid
        for study in store.images.studies(patient_id)
        for series in study.series
    }
    planned, skipped = _plan(client, studies, indexed, cancel)
    total = sum(len(item.instances) for item in planned)
    lock = threading.Lock()
    counts = {"done": 0, "retrieved": 0, "resumed": 0}

    def written(_uid: str) -> None:  # called from the thread that received it
        with lock:
            counts["done"] += 1
            counts["retrieved"] += 1
            done = counts["done"]
        report("retrieving", done, total)

    if total:
        report("retrieving", 0, total)
    folders: list[Path] = []
    for number, item in enumerate(planned):
        try:
            download = download_series(
                client,
                item.series,
                item.instances,
                root,
                on_written=written,
                cancel=cancel,
            )
        except PacsNotFoundError:
            _forget_unindexed(root, server, planned[number:], item.series)
            raise
        with lock:
            counts["done"] += download.already_there
            counts["resumed"] += download.already_there
        report("retrieving", counts["done"], total)
        folders.append(download.folder)
    if folders:
        summary = import_dicom(
            store,
            folders,
            user=user,
            progress=lambda done, files: report("indexing", done, files),
            cancel=cancel,
        )
    else:
        summary = ImportSummary(files_scanned=0)
    return PacsImport(
        server=server.label,
        patient_id=patient_id,
        studies=studies,
        summary=summary,
        images_retrieved=counts["retrieved"],
        images_resumed=counts["resumed"],
        skipped=tuple(skipped),
        folder=root,
    )


def _forget_unindexed(
    root: Path, server: PacsServer, planned: Sequence[_Planned], gone: SeriesMatch
) -> None:
    """Remove the downloads of the vanished study's series still to be indexed.

    They were never indexed (this retrieval failed before indexing), so nothing
    refers to them; series of the study indexed earlier keep their files.
    """
    for item in planned:
        if item.series.study_instance_uid == gone.study_instance_uid:
            folder = series_folder(root, server, item.series)
            shutil.rmtree(folder, ignore_errors=True)
            with contextlib.suppress(OSError):  # other series of it stay
                folder.parent.rmdir()


# ---------------------------------------------------------------- sending
@dataclass(frozen=True, slots=True, kw_only=True)
class ReportsSent:
    """What the server did with the reports sent to it."""

    server: str
    files: tuple[SentFile, ...]

    @property
    def accepted(self) -> tuple[SentFile, ...]:
        """The files the server stored."""
        return tuple(item for item in self.files if item.accepted)

    @property
    def refused(self) -> tuple[SentFile, ...]:
        """The files the server refused."""
        return tuple(item for item in self.files if not item.accepted)

    def lines(self) -> tuple[str, ...]:
        """One line per file: accepted (in which study) or refused (why)."""
        return tuple(
            (
                f"{item.path.name}: accepted by {self.server} in study "
                f"{item.study_instance_uid} as {item.sop_instance_uid}"
                + (f" ({item.detail})" if item.detail else "")
            )
            if item.accepted
            else f"{item.path.name}: refused by {self.server}: {item.detail}"
            for item in self.files
        )

    def __str__(self) -> str:
        return (
            f"{self.server} accepted {len(self.accepted)} of {len(self.files)} reports"
        )


def send_reports(server: PacsServer, files: Sequence[Path]) -> ReportsSent:
    """Store SR files on ``server`` (STOW-RS or C-STORE), each in its own study.

    Raises
    ------
    WorkflowError
        No file to send.
    PacsError
        The server cannot be reached or refused the request as a whole.
    """
    if not files:
        raise WorkflowError(f"no report to send to {server.label}")
    with contextlib.closing(connect(server)) as client:
        return ReportsSent(server=server.label, files=send_files(client, files))
