"""Identifiers for files that lack them, derived from the files' own content.

Anonymised research and trial exports often remove the Patient ID and the Study,
Series and SOP Instance UIDs, or give every slice the same SOP Instance UID.
Grouping by empty or repeated identifiers would merge images or drop them, so:

* a missing **SOP Instance UID** becomes a UID derived from the file's bytes;
* a missing **Series Instance UID** becomes a UID derived from what the series'
  files share: the study, modality, series number, description, date and time,
  frame of reference, slice size, orientation, pixel spacing and thickness (two
  series differ in at least one of these, so they stay two series);
* a missing **Study Instance UID** becomes a UID derived from the patient and
  study attributes (date, time, accession number, description), plus the frame
  of reference when the date and time are gone too;
* a missing **Patient ID** becomes a placeholder ``ANON-`` plus ten hex digits
  derived from the study: one placeholder patient per study, since nothing in an
  anonymised file tells whether two studies are the same person's.

Each derivation depends on one file only, so discovery, loading the files again
and re-importing a copied folder all give the same identifiers. UIDs use the
``2.25`` root (PS3.5 B.2). A header records which identifiers were derived in
:attr:`~recist_app.imaging.headers.SliceHeader.derived_identifiers`.

Files of one series that share a SOP Instance UID but lie at different places
(a broken anonymiser) each get a UID derived from their bytes, so no image is
lost; files that place the same image identically stay duplicates.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from recist_app.imaging.headers import SliceHeader

__all__ = [
    "PLACEHOLDER_PATIENT_PREFIX",
    "file_digest",
    "separate_clashing_instances",
    "with_derived_identifiers",
]

PLACEHOLDER_PATIENT_PREFIX = "ANON-"
"""Patient IDs made up for files without one start with this."""

_PLACEHOLDER_DIGITS = 10
_CHUNK_BYTES = 1 << 20


def file_digest(path: str) -> str:
    """SHA-256 of a file's bytes, as hex.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str
        64 hex digits.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _uid(kind: str, *parts: object) -> str:
    """A ``2.25`` UID whose UUID is a name-based hash of ``parts`` (RFC 9562 v8).

    (pydicom's ``generate_uid(prefix=None)`` is random, whatever its entropy.)
    """
    text = "\x1f".join([f"recist_app {kind}", *map(repr, parts)])
    raw = bytearray(hashlib.sha256(text.encode()).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x80  # version 8: custom name-based
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC variant
    return f"2.25.{int.from_bytes(raw, 'big')}"


def _study_key(header: SliceHeader) -> tuple[object, ...]:
    dated = bool(header.study_date and header.study_time)
    return (
        header.patient_id,
        header.patient_name,
        header.patient_birth_date,
        header.patient_sex,
        header.study_date,
        header.study_time,
        header.accession_number,
        header.study_description,
        "" if dated else header.frame_of_reference_uid,
    )


def _series_key(header: SliceHeader, study_uid: str) -> tuple[object, ...]:
    orientation = (
        tuple(round(v, 3) + 0.0 for v in header.orientation)
        if header.orientation
        else ()
    )
    spacing = (
        tuple(round(v, 3) for v in header.pixel_spacing_mm)
        if header.pixel_spacing_mm
        else ()
    )
    return (
        study_uid,
        header.modality,
        header.series_number,
        header.series_description,
        header.series_date,
        header.series_time,
        header.frame_of_reference_uid,
        header.rows,
        header.columns,
        orientation,
        spacing,
        header.slice_thickness_mm,
        header.contrast_bolus_agent,
        header.body_part_examined,
    )


def with_derived_identifiers(header: SliceHeader) -> SliceHeader:
    """``header`` with its missing identifiers derived from the file's content.

    Parameters
    ----------
    header
        A header as read from its file.

    Returns
    -------
    SliceHeader
        The same header when nothing is missing; otherwise a copy whose
        ``derived_identifiers`` names what was made up.
    """
    derived: list[str] = []
    study_uid = header.study_instance_uid
    if not study_uid:
        study_uid = _uid("study", *_study_key(header))
        derived.append("StudyInstanceUID")
    patient_id = header.patient_id
    if not patient_id:
        digest = hashlib.sha256(f"recist_app patient {study_uid}".encode()).hexdigest()
        patient_id = PLACEHOLDER_PATIENT_PREFIX + digest[:_PLACEHOLDER_DIGITS].upper()
        derived.insert(0, "PatientID")
    series_uid = header.series_instance_uid
    if not series_uid:
        series_uid = _uid("series", *_series_key(header, study_uid))
        derived.append("SeriesInstanceUID")
    sop_uid = header.sop_instance_uid
    if not sop_uid:
        sop_uid = _uid("instance", file_digest(header.path))
        derived.append("SOPInstanceUID")
    if not derived:
        return header
    return dataclasses.replace(
        header,
        patient_id=patient_id,
        study_instance_uid=study_uid,
        series_instance_uid=series_uid,
        sop_instance_uid=sop_uid,
        derived_identifiers=tuple(derived),
    )


def _placement(header: SliceHeader) -> tuple[object, ...]:
    return (
        header.frame_positions_lps_mm,
        header.orientation,
        header.rows,
        header.columns,
        header.number_of_frames,
    )


def separate_clashing_instances(
    headers: Sequence[SliceHeader],
) -> tuple[list[SliceHeader], int]:
    """Give content-derived UIDs to files that share a SOP UID but not an image.

    Parameters
    ----------
    headers
        The headers of one series.

    Returns
    -------
    tuple of (list of SliceHeader, int)
        The headers in the same order, clashing ones with a derived
        ``sop_instance_uid``, and how many files were changed.
    """
    by_uid: dict[str, list[int]] = defaultdict(list)
    for index, header in enumerate(headers):
        if header.sop_instance_uid:
            by_uid[header.sop_instance_uid].append(index)
    result = list(headers)
    changed = 0
    for uid, members in by_uid.items():
        if len({_placement(headers[i]) for i in members}) < 2:
            continue  # copies of one image: discovery drops all but one
        for index in members:
            header = headers[index]
            result[index] = dataclasses.replace(
                header,
                sop_instance_uid=_uid("instance", uid, file_digest(header.path)),
                derived_identifiers=tuple(
                    dict.fromkeys((*header.derived_identifiers, "SOPInstanceUID"))
                ),
            )
            changed += 1
    return result, changed
