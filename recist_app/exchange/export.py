"""One entry point for every export format, used by the CLI and the File menu.

:func:`export_readings` writes the files of one format for one or many readings
into a staging folder and moves them into the output folder only when all were
written, so a failed export leaves no half-written file. With a
:class:`~recist_app.exchange.deidentify.Pseudonymizer` every file carries the
pseudonymous subject id, shifted dates and replaced UIDs (docs/standards.md section 4).
pydicom and highdicom are imported by the formats that need them (SR, images), so
CSV, JSON and SDTM exports start fast.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import re
import shutil
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from recist_app.exchange._staging import staged_output
from recist_app.exchange.assessment_file import assessment_json_text, visits_csv_text
from recist_app.exchange.errors import ExchangeError
from recist_app.exchange.pdf_report import ReportSignature, write_pdf_report
from recist_app.exchange.reading_file import reading_to_dict
from recist_app.exchange.sdtm import (
    SdtmDatasets,
    build_sdtm,
    merge_sdtm,
    response_assessments,
    write_sdtm,
)
from recist_app.exchange.tables import lesions_csv_text
from recist_app.recist import ReadingError, UnsupportedCriteriaError, assess

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from pathlib import Path

    from pydicom.dataset import Dataset

    from recist_app.exchange.deidentify import Pseudonymizer
    from recist_app.exchange.sr import SrVerification
    from recist_app.recist import Assessment, Criteria, Reading

__all__ = [
    "ExportFormat",
    "ExportItem",
    "ExportOptions",
    "ExportReport",
    "export_readings",
    "index_images",
    "write_export",
]


class ExportFormat(StrEnum):
    """What :func:`export_readings` writes."""

    JSON = "json"
    CSV = "csv"
    SDTM = "sdtm"
    SR = "sr"
    PDF = "pdf"
    ADAM = "adam"
    """Trial-level: from the endpoints, by :func:`recist_app.exchange.write_adam`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportItem:
    """A reading to export and its sign-off.

    ``evaluator_id`` and ``accepted`` are a central review's: SDTM --EVAL
    ``INDEPENDENT ASSESSOR``, --EVALID this (``READER 1``), and --ACPTFL ``Y``
    on the accepted (final) read; ``None`` leaves the export options' evaluator.
    """

    reading: Reading
    signature: ReportSignature = dataclasses.field(
        default_factory=lambda: ReportSignature(status="draft")
    )
    evaluator_id: str | None = None
    accepted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportOptions:
    """Choices that are the sponsor's, not the reading's.

    Parameters
    ----------
    study_id
        SDTM STUDYID and DICOM Clinical Trial Protocol ID.
    sponsor_name
        DICOM Clinical Trial Sponsor Name (de-identified SRs).
    site_id
        DICOM Clinical Trial Site ID.
    evaluator, evaluator_id
        SDTM --EVAL / --EVALID.
    pseudonymizer
        De-identify with this key; ``None`` exports identified data.
    response_criteria
        Criteria sets whose responses SDTM RS carries (one set of records per
        criteria, RSCAT its name): ``None`` every set the reading supports (see
        :func:`~recist_app.exchange.sdtm.response_assessments`), ``()`` the
        reading's own criteria only.
    """

    study_id: str = "RECIST-APP"
    sponsor_name: str = "SPONSOR"
    site_id: str = ""
    evaluator: str = "INVESTIGATOR"
    evaluator_id: str | None = None
    pseudonymizer: Pseudonymizer | None = None
    response_criteria: tuple[Criteria, ...] | None = None


def _stem(reading: Reading) -> str:
    text = reading.patient_id + (f"_{reading.reader}" if reading.reader else "")
    return re.sub(r"[^A-Za-z0-9.-]+", "_", text).strip("_") or "reading"


def _assess(reading: Reading) -> Assessment:
    try:
        return assess(reading)
    except (ReadingError, UnsupportedCriteriaError) as error:
        raise ExchangeError(f"{reading.patient_id}: {error}") from None


def index_images(folder: Path) -> dict[str, Path]:
    """SOP Instance UID -> file of every DICOM file under ``folder``.

    Raises
    ------
    ExchangeError
        ``folder`` is not a folder.
    """
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    if not folder.is_dir():
        raise ExchangeError(f"{folder}: image folder not found")
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        try:
            header = dcmread(
                path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"]
            )
        except (InvalidDicomError, OSError, ValueError, EOFError):
            continue
        uid = header.get("SOPInstanceUID")
        if uid:
            found[str(uid)] = path
    return found


@dataclass(frozen=True, slots=True)
class _Prepared:
    original: Reading
    reading: Reading
    assessment: Assessment
    signature: ReportSignature
    evaluator_id: str | None = None
    accepted: bool = False


def _prepare(item: ExportItem, options: ExportOptions) -> _Prepared:
    from recist_app.exchange.deidentify import deidentify_reading

    pseudonyms = options.pseudonymizer
    if pseudonyms is None:
        reading = item.reading
        signature = item.signature
    else:
        reading = deidentify_reading(item.reading, pseudonyms)
        signature = dataclasses.replace(
            item.signature,
            signed_by=pseudonyms.person(item.signature.signed_by)
            if item.signature.signed_by
            else None,
            signed_at=_shift_timestamp(
                item.signature.signed_at, pseudonyms.shift_days(item.reading.patient_id)
            ),
            audit_anchor=None,  # a hash over identifying rows stays at the site
        )
    return _Prepared(
        item.reading,
        reading,
        _assess(reading),
        signature,
        evaluator_id=item.evaluator_id,
        accepted=item.accepted,
    )


def _shift_timestamp(value: str | None, days: int) -> str | None:
    if value is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment - datetime.timedelta(days=days)).isoformat(timespec="seconds")


def _sign_off_dict(signature: ReportSignature) -> dict[str, object]:
    return {
        "status": signature.status,
        "signed_by": signature.signed_by,
        "signed_at": signature.signed_at,
        "version": signature.version,
    }


_T = TypeVar("_T")


class _Outcome:
    """What writing one format left out: notes, and readings that failed.

    With ``keep_going`` (``export --all``) a reading's problem is its own line
    and the others are still written; otherwise it stops the export.
    """

    def __init__(self, *, keep_going: bool) -> None:
        self.keep_going = keep_going
        self.notes: list[str] = []
        self.failed: list[str] = []

    def attempt(self, label: str, action: Callable[[], _T]) -> _T | None:
        """``action()`` for the reading ``label``; ``None`` if it failed."""
        try:
            return action()
        except ExchangeError as error:
            if not self.keep_going:
                raise
            self.failed.append(f"{label}: {error}")
            return None


def _label(reading: Reading) -> str:
    """The reading as one line names it: patient, criteria and reader."""
    reader = f", reader {reading.reader}" if reading.reader else ""
    return f"patient {reading.patient_id} ({reading.criteria.value}{reader})"


def _write_json(items: Sequence[_Prepared], folder: Path, outcome: _Outcome) -> None:
    for item in items:
        stem = _stem(item.reading)
        paths = (
            folder / f"{stem}.reading.json",
            folder / f"{stem}.assessment.json",
        )

        def write(item: _Prepared = item, paths: tuple[Path, Path] = paths) -> None:
            data = reading_to_dict(item.reading)
            data["sign_off"] = _sign_off_dict(item.signature)
            try:
                paths[0].write_text(
                    json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                    encoding="utf-8",
                )
                paths[1].write_text(
                    assessment_json_text(item.assessment), encoding="utf-8"
                )
            except ExchangeError:
                for path in paths:
                    path.unlink(missing_ok=True)
                raise

        outcome.attempt(_label(item.original), write)


def _write_csv(items: Sequence[_Prepared], folder: Path, outcome: _Outcome) -> None:
    # each reading's rows first on their own, so one reading's problem is its own
    good = [
        p
        for p in items
        if outcome.attempt(_label(p.original), functools.partial(_csv_texts, [p]))
        is not None
    ]
    if not good:
        return
    responses, lesions = _csv_texts(good)
    (folder / "responses.csv").write_text(responses, encoding="utf-8")
    (folder / "lesions.csv").write_text(lesions, encoding="utf-8")


def _csv_texts(items: Sequence[_Prepared]) -> tuple[str, str]:
    """``responses.csv`` and ``lesions.csv`` of ``items``."""
    return (
        visits_csv_text([(p.assessment, p.reading.reader) for p in items]),
        lesions_csv_text([(p.reading, p.assessment) for p in items]),
    )


def _write_sdtm(
    items: Sequence[_Prepared],
    folder: Path,
    options: ExportOptions,
    outcome: _Outcome,
) -> None:
    built: list[SdtmDatasets] = []
    for p in items:
        datasets = outcome.attempt(
            _label(p.original),
            functools.partial(
                build_sdtm,
                p.reading,
                p.assessment,
                study_id=options.study_id,
                evaluator=(
                    "INDEPENDENT ASSESSOR" if p.evaluator_id else options.evaluator
                ),
                evaluator_id=p.evaluator_id or options.evaluator_id,
                responses=response_assessments(p.reading, options.response_criteria),
                accepted=p.accepted,
            ),
        )
        if datasets is not None:
            built.append(datasets)
    if built:
        write_sdtm(merge_sdtm(built), folder)


def read_image_headers(
    uids: Iterable[str], images: Mapping[str, Path]
) -> dict[str, Dataset]:
    """Headers (no pixels) of the images ``uids`` that ``images`` locates.

    Raises
    ------
    ExchangeError
        An image file cannot be read (one line naming the file).
    """
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    headers: dict[str, Dataset] = {}
    for uid in sorted(set(uids)):
        path = images.get(uid)
        if path is None:
            continue
        try:
            headers[uid] = dcmread(path, stop_before_pixels=True)
        except (InvalidDicomError, OSError, ValueError, EOFError) as error:
            raise ExchangeError(f"{path}: cannot read image header: {error}") from None
    return headers


def _headers(images: Mapping[str, Path], reading: Reading) -> dict[str, Dataset]:
    wanted = (
        g.sop_instance_uid
        for t in reading.timepoints
        for g in (
            *(m.geometry for m in t.measurements),
            *(o.geometry for o in t.new_lesions),
        )
        if g is not None
    )
    return read_image_headers(wanted, images)


def _verification(
    item: _Prepared, headers: Mapping[str, Dataset], options: ExportOptions
) -> SrVerification | None:
    """A signed reading's sign-off as the SR's Verifying Observer (else ``None``).

    The organization is the measured images' institution, else the site id (a
    de-identified export removes the institution: PS3.15 X).
    """
    from recist_app.exchange.sr import SrVerification

    signature = item.signature
    if signature.status != "signed":
        return None
    if not signature.signed_by or not signature.signed_at:
        raise ExchangeError(
            f"SR of {item.reading.patient_id}: the reading is signed but its "
            "signer or signing time is unknown"
        )
    try:
        signed_at = datetime.datetime.fromisoformat(signature.signed_at)
    except ValueError:
        raise ExchangeError(
            f"SR of {item.reading.patient_id}: signing time "
            f"{signature.signed_at!r} is not an ISO timestamp"
        ) from None
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=datetime.UTC)
    institutions = sorted(
        {str(h.InstitutionName) for h in headers.values() if h.get("InstitutionName")}
    )
    return SrVerification(
        signer=signature.signed_by,
        signed_at=signed_at,
        organization=(institutions[0] if institutions else options.site_id)
        or "UNKNOWN",
    )


def _on_date(value: str, date: datetime.date) -> str:
    """A DICOM DT ``value`` moved to ``date``, its time of day kept."""
    return date.strftime("%Y%m%d") + str(value)[8:]


def _write_sr(
    items: Sequence[_Prepared],
    folder: Path,
    images: Mapping[str, Path],
    options: ExportOptions,
    outcome: _Outcome,
) -> None:
    for item in items:
        target = folder / _stem(item.reading)

        def write(item: _Prepared = item, target: Path = target) -> None:
            try:
                _write_sr_reading(item, target, images, options, outcome)
            except ExchangeError:
                shutil.rmtree(target, ignore_errors=True)  # none of its SRs
                raise

        outcome.attempt(_label(item.original), write)


def _write_sr_reading(
    item: _Prepared,
    target: Path,
    images: Mapping[str, Path],
    options: ExportOptions,
    outcome: _Outcome,
) -> None:
    """The SR of each visit of one reading; a visit not read has none (noted)."""
    from recist_app.exchange.deidentify import deidentify_dataset, mark_deidentified
    from recist_app.exchange.sr import build_measurement_report

    headers = _headers(images, item.original)
    verification = _verification(item, headers, options)
    pseudonyms = options.pseudonymizer
    patient = item.original.patient_id
    for number, timepoint in enumerate(item.reading.timepoints, start=1):
        if not timepoint.is_read:
            # no finding, so nothing to report: a visit not read has no SR
            outcome.notes.append(
                f"{_label(item.original)}: SR of visit {timepoint.visit} not "
                "written: the visit is not read (no finding recorded)"
            )
            continue
        if pseudonyms is not None:
            visit_headers = {
                pseudonyms.uid(uid): deidentify_dataset(
                    header,
                    pseudonyms,
                    patient_id=patient,
                    sponsor_name=options.sponsor_name,
                    protocol_id=options.study_id,
                    time_point=timepoint.visit,
                    site_id=options.site_id,
                )
                for uid, header in headers.items()
            }
        else:
            visit_headers = headers
        try:
            sr = build_measurement_report(
                item.reading,
                timepoint.visit,
                visit_headers,
                verification=verification,
            )
        except (ValueError, TypeError) as error:
            if isinstance(error, ExchangeError):
                raise
            raise ExchangeError(
                f"SR of {item.reading.patient_id} visit {timepoint.visit}: {error}"
            ) from None
        if pseudonyms is not None:
            mark_deidentified(
                sr,
                item.reading.patient_id,
                sponsor_name=options.sponsor_name,
                protocol_id=options.study_id,
                time_point=timepoint.visit,
                site_id=options.site_id,
            )
            # Every date of the SR on the patient's shifted timeline, like the
            # others: the export's own clock would date it (and, known, would
            # give the shift away), so the shifted visit date stands in for it.
            # The verification is the signing, shifted already (_prepare).
            for keyword in ("ContentDate", "SeriesDate", "InstanceCreationDate"):
                setattr(sr, keyword, timepoint.date.strftime("%Y%m%d"))
            for equipment in sr.get("ContributingEquipmentSequence", []):
                if equipment.get("ContributionDateTime"):
                    equipment.ContributionDateTime = _on_date(
                        equipment.ContributionDateTime, timepoint.date
                    )
        visit = re.sub(r"[^A-Za-z0-9]+", "_", timepoint.visit).strip("_")
        path = target / f"{number:02d}_{visit}.SR.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        sr.save_as(path, enforce_file_format=True)


def _write_pdf(
    items: Sequence[_Prepared],
    folder: Path,
    images: Mapping[str, Path],
    options: ExportOptions,
    outcome: _Outcome,
) -> None:
    pseudonyms = options.pseudonymizer
    files = (
        {pseudonyms.uid(uid): path for uid, path in images.items()}
        if pseudonyms is not None
        else images
    )
    for item in items:
        path = folder / f"{_stem(item.reading)}.report.pdf"

        def write(item: _Prepared = item, path: Path = path) -> None:
            try:
                write_pdf_report(
                    item.reading,
                    item.assessment,
                    path,
                    images=files,
                    signature=item.signature,
                )
            except ExchangeError:
                path.unlink(missing_ok=True)
                raise

        outcome.attempt(_label(item.original), write)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportReport:
    """What exporting one format wrote, and what it left out.

    ``notes`` say what was not written for a reason that is no problem (a visit
    not read has no SR). ``failed`` holds, with ``keep_going``, one line per
    reading written in no file of this format: the patient and the reason.
    """

    files: tuple[Path, ...]
    notes: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()


def export_readings(
    items: Sequence[ExportItem],
    export_format: ExportFormat | str,
    out_dir: Path,
    *,
    images: Mapping[str, Path] | None = None,
    options: ExportOptions | None = None,
) -> tuple[Path, ...]:
    """Write ``items`` in ``export_format`` into ``out_dir``; return the files.

    :func:`write_export` without its notes, stopping at the first problem.

    Raises
    ------
    ExchangeError
        See :func:`write_export`.
    """
    return write_export(
        items, export_format, out_dir, images=images, options=options
    ).files


def write_export(
    items: Sequence[ExportItem],
    export_format: ExportFormat | str,
    out_dir: Path,
    *,
    images: Mapping[str, Path] | None = None,
    options: ExportOptions | None = None,
    keep_going: bool = False,
) -> ExportReport:
    """Write ``items`` in ``export_format`` into ``out_dir``; say what was left out.

    Parameters
    ----------
    items
        Readings with their sign-off; several for ``--all`` (CSV and SDTM put all
        patients in one table, the others write files per patient).
    export_format
        ``json`` (reading with geometry, reader and sign-off + assessment), ``csv``
        (``responses.csv``, ``lesions.csv``), ``sdtm`` (TU/TR/RS as CSV and XPT,
        ``define.csv``), ``sr`` (one TID 1500 SR per visit read; a visit not read
        has none, and a note says so) or ``pdf`` (report).
    out_dir
        Output folder (created).
    images
        Image files by SOP Instance UID: required for ``sr``, used for the key
        images of ``pdf``.
    options
        Study ids, evaluator and de-identification.
    keep_going
        A reading's problem is one line in :attr:`ExportReport.failed` (naming
        the patient and the reason) and the other readings are written; without
        it the first problem stops the export.

    Raises
    ------
    ExchangeError
        One line: nothing to export, an unknown format, a reading or image problem
        (without ``keep_going``), or an unwritable folder. Nothing is left in
        ``out_dir`` then.
    """
    options = options or ExportOptions()
    try:
        fmt = ExportFormat(export_format)
    except ValueError:
        raise ExchangeError(
            f"unknown export format {export_format!r} "
            f"(choose {', '.join(f.value for f in ExportFormat)})"
        ) from None
    if fmt is ExportFormat.ADAM:
        raise ExchangeError(
            "ADaM datasets come from the trial's endpoints, not from readings alone: "
            "export them through the export workflow or recist-app endpoints"
        )
    if not items:
        raise ExchangeError("nothing to export: no readings")
    if fmt is ExportFormat.SR and not images:
        raise ExchangeError("SR export needs the images: pass the DICOM folder")
    outcome = _Outcome(keep_going=keep_going)
    prepared = [
        p
        for item in items
        if (
            p := outcome.attempt(
                _label(item.reading), functools.partial(_prepare, item, options)
            )
        )
        is not None
    ]
    stems = [_stem(p.reading) for p in prepared]
    if len(set(stems)) != len(stems):
        raise ExchangeError(
            "two readings would write the same files; export them apart"
        )
    with staged_output(out_dir) as staging:
        try:
            if fmt is ExportFormat.JSON:
                _write_json(prepared, staging, outcome)
            elif fmt is ExportFormat.CSV:
                _write_csv(prepared, staging, outcome)
            elif fmt is ExportFormat.SDTM:
                _write_sdtm(prepared, staging, options, outcome)
            elif fmt is ExportFormat.SR:
                _write_sr(prepared, staging, images or {}, options, outcome)
            else:
                _write_pdf(prepared, staging, images or {}, options, outcome)
        except OSError as error:
            raise ExchangeError(
                f"{out_dir}: cannot write: {error.strerror or error}"
            ) from None
        written = sorted(
            p.relative_to(staging) for p in staging.rglob("*") if p.is_file()
        )
    return ExportReport(
        files=tuple(out_dir / p for p in written),
        notes=tuple(outcome.notes),
        failed=tuple(outcome.failed),
    )
