"""Export readings from the database: ``recist-app export`` and File → Export….

One request describes what the command line's options and the dialog's choices
both say: which readings (a patient or all, criteria, reader, signed only), which
formats, where, the measured images, and de-identification with the site's key.
:func:`export` chooses the readings with their sign-off from the store, finds the
measured images (given files, a folder scanned for them, then the imaging index)
and writes each format through :func:`recist_app.exchange.export_readings`.
The ADaM format is trial-level: it computes the endpoints of the database's
readings, clinical data and adverse events (the workflow of ``recist-app
endpoints --database``) and writes ADSL, ADRS, ADTTE and ADAE; with a patient,
only that patient's rows.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from recist_app.endpoints import build_adam
from recist_app.exchange import (
    ExportFormat,
    ExportItem,
    ExportOptions,
    ReportSignature,
    index_images,
    write_adam,
    write_export,
    write_reading_file,
)
from recist_app.recist import Criteria, ReaderRole
from recist_app.store import ReadingStatus, SignatureMismatchError
from recist_app.workflows.central_reading import (
    CentralStatus,
    Viewer,
    central_statuses,
    visible_records,
)
from recist_app.workflows.endpoints import trial_from_store
from recist_app.workflows.errors import WorkflowError
from recist_app.workflows.pacs import ReportsSent, send_reports
from recist_app.workflows.vocabulary import DEID_KEY_ENV, parse_reader_role

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from recist_app.exchange import Pseudonymizer
    from recist_app.recist import Reading
    from recist_app.store import ReadingRecord, Store
    from recist_app.workflows.pacs import PacsServer

__all__ = [
    "DEID_KEY_ENV",
    "ExportFormat",
    "ExportOptions",
    "ExportRequest",
    "ExportResult",
    "export",
    "load_deidentification_key",
    "signature_of",
    "write_reading",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportRequest:
    """What to export, where and how.

    Parameters
    ----------
    formats
        Formats to write.
    out_dir
        The output folder; with ``folder_per_format`` each format goes into
        ``out_dir / <format>`` (the dialog's habit), else straight into it.
    patient_id
        The patient to export; ``None`` exports every patient in the database.
    criteria, reader
        Only readings under this criteria set, by this reader.
    signed_only
        Export signed readings only: a single patient's draft is refused, drafts
        of other patients are skipped (and listed in the result).
    images_folder
        A DICOM folder scanned for the measured images.
    image_files
        Measured images already known, by SOP Instance UID (the loaded series).
    options
        Study ids and evaluator (its ``pseudonymizer`` is set from the key).
    deidentify
        Pseudonymous subject id, shifted dates, no direct identifiers.
    deid_key_file
        The site's key file; default ``$RECIST_APP_DEID_KEY``.
    subject_prefix
        Prefix of pseudonymous subject ids.
    biomarkers_csv
        ADaM: the biomarker file whose values and groups ADSL carries.
    viewer
        Who exports: the blinding rule
        (:func:`~recist_app.workflows.central_reading.visible_records`) decides
        which readings a primary reader may export (default: everything, a
        site's or an adjudicator's view).
    send_to
        SR: a PACS that stores each visit's SR in that visit's study (STOW-RS
        or C-STORE) once the files are written.
    """

    formats: tuple[ExportFormat, ...]
    out_dir: Path
    patient_id: str | None = None
    criteria: Criteria | None = None
    reader: str | None = None
    signed_only: bool = False
    images_folder: Path | None = None
    image_files: Mapping[str, Path] = field(default_factory=dict)
    folder_per_format: bool = False
    options: ExportOptions = field(default_factory=ExportOptions)
    deidentify: bool = False
    deid_key_file: Path | None = None
    subject_prefix: str = "SUBJ-"
    biomarkers_csv: Path | None = None
    send_to: PacsServer | None = None
    viewer: Viewer | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportResult:
    """What an export wrote, and what it left out (one line each).

    ``skipped``: readings not chosen (drafts of a signed-only export).
    ``failed``: with every patient (``--all``), a reading or format that could
    not be written, naming the patient and the reason; the others were written.
    ``notes``: what was left out on purpose, e.g. no SR for a visit not read.
    ``sent``: what the PACS accepted of the SR files (``send_to``).
    """

    files: tuple[Path, ...]
    readings: int
    skipped: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    sent: ReportsSent | None = None

    @property
    def ok(self) -> bool:
        """Whether every reading chosen was written in every format."""
        return not self.failed


def load_deidentification_key(
    key_file: Path | None, environ: Mapping[str, str] | None = None
) -> bytes:
    """The site's de-identification key: the key file, else ``$RECIST_APP_DEID_KEY``.

    Raises
    ------
    WorkflowError
        The key file cannot be read, or there is no key at all.
    """
    environ = os.environ if environ is None else environ
    if key_file is not None:
        try:
            secret = key_file.expanduser().read_bytes().strip()
        except OSError as error:
            raise WorkflowError(
                f"{key_file}: cannot read the key: {error.strerror}"
            ) from None
        if not secret:
            raise WorkflowError(f"{key_file}: the key file is empty")
        return secret
    if environ.get(DEID_KEY_ENV):
        return environ[DEID_KEY_ENV].encode()
    raise WorkflowError(
        f"de-identification needs the site's key: a key file, or ${DEID_KEY_ENV}"
    )


def signature_of(
    record: ReadingRecord | None, *, audit_anchor: str | None = None
) -> ReportSignature:
    """The sign-off an export carries for a stored reading (``draft`` if none).

    ``audit_anchor`` is the hash of the audit row that recorded the signature,
    printed on the PDF report.
    """
    if record is None:
        return ReportSignature(status="draft")
    return ReportSignature(
        status=record.status.value,
        signed_by=record.signed_by,
        signed_at=record.signed_at.isoformat() if record.signed_at else None,
        version=record.signed_version,
        audit_anchor=audit_anchor if record.status is ReadingStatus.SIGNED else None,
    )


def _central_marks(
    store: Store,
    record: ReadingRecord,
    statuses: Mapping[tuple[str, Criteria], CentralStatus],
) -> dict[str, Any]:
    """SDTM --EVALID and --ACPTFL of a central read (nothing for a site read)."""
    if record.reader_role is ReaderRole.SINGLE:
        return {}
    status = statuses.get((record.patient_id, record.criteria))
    accepted = status is not None and status.final_role is record.reader_role
    return {"evaluator_id": record.reader_role.value.upper(), "accepted": accepted}


def _export_item(
    store: Store,
    record: ReadingRecord,
    statuses: Mapping[tuple[str, Criteria], CentralStatus] | None = None,
) -> ExportItem:
    """A reading to export with its sign-off; a signed one checked against it.

    A signed reading is exported under its signer's name only if its rows are
    exactly what was signed (the store checks them against the signed version
    and the audit trail).

    Raises
    ------
    SignatureMismatchError
        The rows are not what was signed (one line naming the reading).
    """
    key = (record.patient_id, record.criteria, record.reader)
    marks = _central_marks(store, record, statuses or {})
    if record.status is not ReadingStatus.SIGNED:
        return ExportItem(
            reading=store.readings.load(*key), signature=signature_of(record), **marks
        )
    signed = store.signing.load_signed(*key)  # SignatureMismatchError
    return ExportItem(
        reading=signed.reading,
        signature=signature_of(signed.record, audit_anchor=signed.sign_off_hash),
        **marks,
    )


def _chosen_records(
    store: Store, request: ExportRequest
) -> tuple[list[ReadingRecord], list[str]]:
    listed = store.readings.list(request.patient_id)
    if request.viewer is not None:
        listed = visible_records(store, request.viewer, listed)
    role = None
    if request.reader is not None:
        try:
            role = parse_reader_role(request.reader)
        except WorkflowError:
            role = None
    records = [
        record
        for record in listed
        if (request.criteria is None or record.criteria is request.criteria)
        and (
            request.reader is None
            or record.reader == request.reader
            or (role is not None and record.reader_role is role)
        )
    ]
    if not records:
        who = (
            f"patient {request.patient_id}"
            if request.patient_id is not None
            else "any patient"
        )
        raise WorkflowError(f"no reading of {who} in {store.url}")
    if not request.signed_only:
        return records, []
    drafts = [r for r in records if r.status is not ReadingStatus.SIGNED]
    if drafts and request.patient_id is not None:
        raise WorkflowError(
            f"{drafts[0].label} is not signed (signed-only exports signed "
            "readings only)"
        )
    signed = [r for r in records if r.status is ReadingStatus.SIGNED]
    if not signed:
        raise WorkflowError("no signed reading to export (signed only)")
    return signed, [f"{draft.label}: not signed" for draft in drafts]


def _geometry_uids(readings: Sequence[Reading]) -> set[str]:
    return {
        geometry.sop_instance_uid
        for reading in readings
        for timepoint in reading.timepoints
        for geometry in (
            *(m.geometry for m in timepoint.measurements),
            *(m.viable_geometry for m in timepoint.measurements),
            *(o.geometry for o in timepoint.new_lesions),
        )
        if geometry is not None
    }


def _measured_images(
    store: Store, request: ExportRequest, readings: Sequence[Reading]
) -> dict[str, Path]:
    images = dict(request.image_files)
    if request.images_folder is not None:
        scanned = index_images(request.images_folder)
        if not scanned:
            raise WorkflowError(f"{request.images_folder}: holds no DICOM files")
        images.update(scanned)
    missing = _geometry_uids(readings) - set(images)
    if missing:
        images.update(store.images.image_files(missing))
    return images


def _pseudonymizer(request: ExportRequest) -> Pseudonymizer | None:
    if not request.deidentify:
        return None
    from recist_app.exchange import Pseudonymizer

    secret = load_deidentification_key(request.deid_key_file)
    return Pseudonymizer(secret, subject_prefix=request.subject_prefix)


def export(
    store: Store,
    request: ExportRequest,
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> ExportResult:
    """Write every format of ``request``; return the files written.

    With ``send_to``, the SR files written are then stored on that PACS, and
    the result says what it accepted.

    ``progress(done, total, message)`` is called before each format and at the end.
    A failing format leaves no file of its own; formats finished before it stay.
    For every patient (no ``patient_id``) a patient's problem never stops the
    export: it is one line in :attr:`ExportResult.failed` (the patient, the
    format and the reason) and the other patients are written. A visit not
    read gets no SR, which :attr:`ExportResult.notes` says.

    Raises
    ------
    WorkflowError
        No format, no matching reading, a draft refused by ``signed_only``, a
        signed reading whose rows are not what was signed, an image folder
        without images, or de-identification without a key.
    ExchangeError
        A reading, image or folder problem while writing (one line).
    PacsError
        ``send_to`` cannot be reached or refused the SR as a whole (the files
        stay written).
    """
    report = progress or (lambda _done, _total, _message: None)
    if not request.formats:
        raise WorkflowError("choose at least one export format")
    _check_sending(request)
    pseudonymizer = _pseudonymizer(request)
    total = len(request.formats) + 1 + (request.send_to is not None)
    report(0, total, "Reading the readings…")
    records, skipped = _chosen_records(store, request)
    reading_formats = [f for f in request.formats if f is not ExportFormat.ADAM]
    # Every patient (--all): one patient's problem is its own line, the others
    # are written; one patient: the problem stops the export.
    keep_going = request.patient_id is None
    failed: list[str] = []
    notes: list[str] = []
    items: list[ExportItem] = []
    statuses = {(s.patient_id, s.criteria): s for s in central_statuses(store)}
    for record in records if reading_formats else ():
        try:
            items.append(_export_item(store, record, statuses))
        except SignatureMismatchError as error:  # names the reading
            if not keep_going:
                raise WorkflowError(f"{error}; nothing was exported") from None
            failed.append(str(error))
    images: dict[str, Path] = {}
    if {ExportFormat.SR, ExportFormat.PDF} & set(request.formats):
        images = _measured_images(store, request, [item.reading for item in items])
        if ExportFormat.SR in request.formats and not images:
            raise WorkflowError(
                "the SR export needs the measured images: none is in the image "
                "folder given or indexed in the database; import their DICOM "
                "folder first"
            )
    options = dataclasses.replace(request.options, pseudonymizer=pseudonymizer)
    written: list[Path] = []
    for number, fmt in enumerate(request.formats, start=1):
        report(number, total, f"Writing {fmt.value}…")
        folder = (
            request.out_dir / fmt.value
            if request.folder_per_format
            else (request.out_dir)
        )
        if fmt is ExportFormat.ADAM:
            written += _export_adam(store, request, folder, pseudonymizer)
            continue
        if not items:
            continue  # every reading failed already (listed)
        outcome = write_export(
            items,
            fmt,
            folder,
            images=images or None,
            options=options,
            keep_going=keep_going,
        )
        written += outcome.files
        failed += [f"{fmt.value}: {line}" for line in outcome.failed]
        notes += list(outcome.notes)
    sent = None
    if request.send_to is not None:
        report(total - 1, total, f"Sending the SR to {request.send_to.label}…")
        sent = send_reports(request.send_to, [p for p in written if _is_sr(p)])
    report(total, total, f"Wrote {len(written)} files")
    return ExportResult(
        files=tuple(written),
        readings=len(records),
        skipped=tuple(skipped),
        failed=tuple(failed),
        notes=tuple(notes),
        sent=sent,
    )


def _is_sr(path: Path) -> bool:
    return path.name.endswith(".SR.dcm")


def _check_sending(request: ExportRequest) -> None:
    """Sending goes with the SR format, and never de-identified.

    Raises
    ------
    WorkflowError
        ``send_to`` without the SR format, or with de-identification (its SR
        would not belong to the visit's study on the server).
    """
    if request.send_to is None:
        return
    if ExportFormat.SR not in request.formats:
        raise WorkflowError(
            f"sending to {request.send_to.label} sends the SR reports: export "
            "the sr format"
        )
    if request.deidentify:
        raise WorkflowError(
            f"a de-identified SR would not belong to its visit's study on "
            f"{request.send_to.label}: send the identified SR, without "
            "de-identification"
        )


def _export_adam(
    store: Store,
    request: ExportRequest,
    folder: Path,
    pseudonymizer: Pseudonymizer | None,
) -> tuple[Path, ...]:
    """ADSL, ADRS, ADTTE (and ADAE) of the database's trial (module docstring).

    Raises
    ------
    NoClinicalDataError
        The database has no clinical data.
    WorkflowError
        The patient asked for is not a patient of the clinical data.
    """
    analysis = trial_from_store(
        store,
        criteria=request.criteria or Criteria.RECIST_1_1,
        reader=request.reader,
        signed_only=request.signed_only,
        biomarkers_csv=request.biomarkers_csv,
    )
    patients = None
    if request.patient_id is not None:
        unread = {item.patient_id: item for item in analysis.unread}
        if request.patient_id in unread:
            raise WorkflowError(f"ADaM: {unread[request.patient_id]}")
        if request.patient_id not in {
            s.patient_id for s in analysis.endpoints.subjects
        }:
            raise WorkflowError(
                f"ADaM: patient {request.patient_id} is not in the clinical data "
                "(the trial's patients)"
            )
        patients = {request.patient_id}
    datasets = build_adam(
        analysis.endpoints,
        study_id=request.options.study_id,
        evaluator=request.options.evaluator,
        patients=patients,
        subject_id=None if pseudonymizer is None else pseudonymizer.subject_id,
        shift_date=None if pseudonymizer is None else pseudonymizer.shift_date,
    )
    return write_adam(datasets, folder)


def write_reading(reading: Reading, path: Path) -> None:
    """Write ``reading`` as a ``recist-reading/1`` file (File → Export reading JSON).

    Raises
    ------
    ExchangeError
        The file cannot be written (one line naming it).
    """
    write_reading_file(reading, path)
