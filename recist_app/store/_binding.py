"""What the audit trail says the tables hold, compared with what they hold.

Every change the store makes to a patient, a reading, one of its rows, a
clinical row, an adverse event or an adjudication is written to the audit trail
with the row's values (:mod:`._writer`, :mod:`.signing`, :mod:`.importing`,
:mod:`.clinical`, :mod:`.adverse_events`, :mod:`.central`); the imaging index is
not: it is what the DICOM files say, indexed again from them at any time.
Replaying the trail in sequence order therefore gives, for every such row, the
values it must hold now: :class:`TrailReplay` does that while the chain is
walked, and :func:`compare_with_tables` reads the tables and reports each row
that differs, is missing or is not in the trail (:class:`Divergence`). A signed
reading's rows must also equal its signed snapshot, whose SHA-256 the trail's
``sign`` row carries (:func:`signature_problem`), and a cached assessment that
claims to be current must be what the rules compute from the rows (the
worklist shows it).

This binds the data to the trail at no cost to a save: the values were already
written to the trail; only ``audit verify`` and exports of signed readings read
them back.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select

from recist_app.recist import ENGINE_VERSION, ReadingError, assess, assessment_to_dict
from recist_app.store._diff import FINDING_NAMES
from recist_app.store._rows import (
    READING_COLUMNS,
    ReadingRows,
    Values,
    canonical_json,
    later_column_defaults,
    rows_from_snapshot,
    rows_sha256,
)
from recist_app.store._unit_of_work import reading_label
from recist_app.store.adverse_events import load_adverse_events
from recist_app.store.central import adjudication_values
from recist_app.store.clinical import clinical_values
from recist_app.store.errors import StoreError
from recist_app.store.importing import first_difference
from recist_app.store.records import ReadingStatus
from recist_app.store.schema import (
    AdjudicationRow,
    AuditRow,
    CachedAssessmentRow,
    ClinicalRow,
    PatientRow,
    ReadingRow,
    ReadingVersionRow,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from sqlalchemy.orm import Session

    from recist_app.store._unit_of_work import UnitOfWork

__all__ = [
    "Divergence",
    "TrailReplay",
    "TrailSignature",
    "compare_with_tables",
    "signature_problem",
    "signed_in_trail",
]

_ROW_NAMES: Final = ("lesions", "timepoints", *FINDING_NAMES)
_WHAT: Final = {
    "lesions": "lesion row",
    "timepoints": "visit row",
    "measurements": "measurement",
    "non_target": "non-target finding",
    "new_lesions": "new-lesion finding",
}
_SIGNATURE_COLUMNS: Final = (
    "status",
    "signed_version",
    "signed_by",
    "signed_at",
    "amendment_reason",
)
# revision 0013: the role is bookkeeping, bound to the trail's "reading role" rows
_READING_ROW_COLUMNS: Final = (*_SIGNATURE_COLUMNS, "reader_role", *READING_COLUMNS)
_SEPARATOR: Final = " / "


class _Unknown:
    """A column the trail does not state (written by an older recist-app)."""


_UNKNOWN: Final = _Unknown()


@dataclass(frozen=True, slots=True, kw_only=True)
class Divergence:
    """One way the tables differ from what the audit trail says they hold.

    Parameters
    ----------
    reading
        The reading's label (``HCC-001 / RECIST 1.1 / dr-a``), or ``None`` for
        a patient's or clinical row.
    patient_id
        The patient concerned.
    visit, lesion_id
        The visit and lesion of the row, when it has them.
    problem
        What differs, in words.
    """

    reading: str | None
    patient_id: str | None
    visit: str | None = None
    lesion_id: str | None = None
    problem: str

    def __str__(self) -> str:
        where = [
            self.reading
            or (f"patient {self.patient_id}" if self.patient_id else "audit trail")
        ]
        place = ", ".join(
            part
            for part in (
                f"visit {self.visit}" if self.visit is not None else "",
                f"lesion {self.lesion_id}" if self.lesion_id is not None else "",
            )
            if part
        )
        if place:
            where.append(place)
        return ": ".join([*where, self.problem])


def _plain(value: object) -> object:
    """``value`` as JSON holds it (dates and times as ISO text, times in UTC)."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _instant(value: object) -> object:
    """An ISO timestamp as an instant in UTC (other values as they are)."""
    if isinstance(value, str):
        try:
            return (
                datetime.datetime.fromisoformat(value)
                .astimezone(datetime.UTC)
                .isoformat()
            )
        except ValueError:
            return value
    return _plain(value)


def _same(stored: object, trail: object) -> bool:
    """Whether a stored value is the one the trail recorded (as JSON reads back)."""
    return _plain(stored) == _plain(trail)


def _shown(value: object) -> str:
    text = json.dumps(_plain(value), ensure_ascii=True, default=str)
    return text if len(text) <= 60 else f"{text[:57]}..."


@dataclass(slots=True)
class TrailReplay:
    """The rows the audit trail says exist now, built row by row in order.

    Attributes
    ----------
    readings
        Reading label → the reading row's values (status, signature and
        parameters) as the trail last stated them.
    rows
        ``(entity, entity key)`` → values of each lesion, visit and finding row.
    signed
        Reading label → version → the signature the trail recorded.
    patients
        Patient ids the trail added.
    clinical
        Patient id → clinical dates.
    adjudications
        ``PATIENT / criteria`` → the adjudicator's decision (revision 0013).
    adverse_events
        ``(patient id, canonical JSON of the event)`` → how many such rows.
    unreadable
        ``(sequence, patient id)`` of rows whose values could not be read.
    """

    readings: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows: dict[tuple[str, str], Values] = field(default_factory=dict)
    signed: dict[str, dict[int, TrailSignature]] = field(default_factory=dict)
    patients: set[str] = field(default_factory=set)
    clinical: dict[str, Values] = field(default_factory=dict)
    adjudications: dict[str, Values] = field(default_factory=dict)
    adverse_events: Counter[tuple[str, str]] = field(default_factory=Counter)
    unreadable: list[tuple[int, str | None]] = field(default_factory=list)

    def feed(self, row: AuditRow) -> None:
        """Apply one audit row (rows must come in sequence order).

        A row whose values cannot be read (edited by hand into something the
        store never writes) is noted in :attr:`unreadable`, not raised.
        """
        try:
            self._feed(row)
        except (ValueError, KeyError, TypeError, AttributeError):
            self.unreadable.append((row.sequence, row.patient_id))

    def _feed(self, row: AuditRow) -> None:
        entity, action = row.entity, row.action
        if entity == "patient":
            if action == "insert":
                self.patients.add(row.entity_key)
            elif action in ("rename", "merge"):
                # An imaged patient given its real id, or merged into it.
                self.patients.discard(row.entity_key)
                if action == "rename" and row.after_values is not None:
                    self.patients.add(json.loads(row.after_values)["patient_id"])
            return
        if entity == "reading role":  # revision 0013
            if row.after_values is not None:
                state = self.readings.setdefault(row.entity_key, {})
                state["reader_role"] = json.loads(row.after_values)["reader_role"]
            return
        if entity == "adverse_event":  # revision 0007: inserted and deleted whole
            self._adverse_event(row)
            return
        if entity == "adjudication":  # revision 0013
            after_values = (
                {} if row.after_values is None else json.loads(row.after_values)
            )
            self._keyed(self.adjudications, row.entity_key, action, after_values, {})
            return
        if entity not in ("reading", "clinical", *_ROW_NAMES):
            return  # the imaging index is not bound to the trail
        after: dict[str, Any] = (
            {} if row.after_values is None else json.loads(row.after_values)
        )
        if entity == "reading":
            self._reading(row, action, after)
        elif entity == "clinical":
            self._keyed(self.clinical, row.entity_key, action, after, {})
        else:
            self._keyed(
                self.rows,
                (entity, row.entity_key),
                action,
                after,
                later_column_defaults(entity),
            )

    def _adverse_event(self, row: AuditRow) -> None:
        insert = row.action == "insert"
        values = row.after_values if insert else row.before_values
        if values is not None and row.action in ("insert", "delete"):
            key = (row.patient_id or "", canonical_json(json.loads(values)))
            self.adverse_events[key] += 1 if insert else -1

    @staticmethod
    def _keyed(
        table: dict[Any, Values],
        key: Any,
        action: str,
        after: dict[str, Any],
        defaults: Values,
    ) -> None:
        if action == "delete":
            table.pop(key, None)
        elif action == "insert":
            table[key] = {**defaults, **after}
        elif action == "update":
            table[key] = {**table.get(key, defaults), **after}

    def _reading(self, row: AuditRow, action: str, after: dict[str, Any]) -> None:
        label = row.entity_key
        if action == "insert":
            self.readings[label] = {
                "signed_version": 0,
                "signed_by": None,
                "signed_at": None,
                "amendment_reason": None,
                "reader_role": "single",  # every reading starts a site read
                **later_column_defaults("reading"),
                **after,
            }
            return
        state = self.readings.setdefault(label, {})
        if action == "update":
            state.update(after)
        elif action == "sign":
            signature = TrailSignature(
                snapshot_sha256=after["snapshot_sha256"],
                # Signatures made in the app before revision 0008 name neither:
                # the row's user and time are the signer and the signing time.
                signed_by=after.get("signed_by", row.user_name),
                signed_at=after.get("signed_at", row.recorded_at),
                row_hash=row.row_hash,
            )
            version = int(after["signed_version"])
            state.update(
                status=after.get("status", ReadingStatus.SIGNED.value),
                signed_version=version,
                signed_by=signature.signed_by,
                signed_at=signature.signed_at,
                amendment_reason=None,
            )
            self.signed.setdefault(label, {})[version] = signature
        elif action == "amend":
            state.update(status=after["status"])
            state["amendment_reason"] = after.get("amendment_reason", _UNKNOWN)
        elif action in ("import", "replace"):
            state.update(status=after["status"], signed_version=after["signed_version"])
            for name in ("signed_by", "signed_at", "amendment_reason"):
                state[name] = after.get(name, _UNKNOWN)


# ------------------------------------------------------------ the tables


@dataclass(frozen=True, slots=True)
class _Reading:
    label: str
    patient_id: str

    def divergence(
        self,
        problem: str,
        visit: str | None = None,
        lesion_id: str | None = None,
    ) -> Divergence:
        return Divergence(
            reading=self.label,
            patient_id=self.patient_id,
            visit=visit,
            lesion_id=lesion_id,
            problem=problem,
        )


def _row_keys(rows: ReadingRows) -> Iterator[tuple[str, str, Values, str | None, str]]:
    """``(entity, suffix, values, visit, lesion)`` of each row of a reading."""
    for lesion_id, values in rows.lesions.items():
        yield "lesions", lesion_id, values, None, lesion_id
    for visit, values in rows.timepoints.items():
        yield "timepoints", visit, values, visit, ""
    for name in FINDING_NAMES:
        items: dict[tuple[str, str], Values] = getattr(rows, name)
        for (visit, lesion_id), values in items.items():
            yield name, f"{visit}{_SEPARATOR}{lesion_id}", values, visit, lesion_id


def _compare_values(
    reading: _Reading,
    what: str,
    stored: Values,
    trail: Values,
    place: tuple[str | None, str | None],
) -> list[Divergence]:
    found: list[Divergence] = []
    if all(
        _plain(value) == trail.get(name, _UNKNOWN) for name, value in stored.items()
    ):
        return found  # the common case, without looking at each column twice
    for name, value in stored.items():
        expected = trail.get(name, _UNKNOWN)
        if expected is _UNKNOWN:
            found.append(
                reading.divergence(
                    f"{what} {name} is {_shown(value)} in the database but the "
                    "audit trail never recorded it",
                    *place,
                )
            )
        elif not _same(value, expected):
            found.append(
                reading.divergence(
                    f"{what} {name} is {_shown(value)} in the database, "
                    f"{_shown(expected)} in the audit trail",
                    *place,
                )
            )
    return found


def _split_finding(suffix: str, visits: set[str]) -> tuple[str, str]:
    """``(visit, lesion_id)`` of a finding's key suffix ``visit / lesion``."""
    for visit in sorted(visits, key=len, reverse=True):
        if suffix.startswith(visit + _SEPARATOR):
            return visit, suffix[len(visit) + len(_SEPARATOR) :]
    visit, _, lesion_id = suffix.rpartition(_SEPARATOR)
    return visit, lesion_id


def _child_rows(
    reading: _Reading,
    rows: ReadingRows,
    trail: dict[tuple[str, str], Values],
) -> list[Divergence]:
    """The lesion, visit and finding rows of one reading against the trail."""
    found: list[Divergence] = []
    seen: set[tuple[str, str]] = set()
    place: tuple[str | None, str | None]
    for name, suffix, values, visit, lesion_id in _row_keys(rows):
        what = _WHAT[name]
        place = (visit, lesion_id or None)
        seen.add((name, suffix))
        expected = trail.get((name, suffix))
        if expected is None:
            found.append(
                reading.divergence(
                    f"{what} is in the database but not in the audit trail "
                    "(added outside recist-app)",
                    *place,
                )
            )
            continue
        found += _compare_values(reading, what, values, expected, place)
    visits = set(rows.timepoints) | {
        suffix for name, suffix in trail if name == "timepoints"
    }
    for name, suffix in sorted(trail.keys() - seen):
        if name == "lesions":
            place = (None, suffix)
        elif name == "timepoints":
            place = (suffix, None)
        else:
            place = _split_finding(suffix, visits)
        found.append(
            reading.divergence(
                f"{_WHAT[name]} is in the audit trail but not in the database "
                "(deleted outside recist-app)",
                *place,
            )
        )
    return found


def _reading_row(
    reading: _Reading, row: ReadingRow, trail: dict[str, Any]
) -> list[Divergence]:
    found: list[Divergence] = []
    for name in _READING_ROW_COLUMNS:
        expected = trail.get(name, _UNKNOWN)
        if expected is _UNKNOWN:
            continue
        value = getattr(row, name)
        same = (
            _instant(value) == _instant(expected)
            if name == "signed_at"
            else _same(value, expected)
        )
        if not same:
            what = "parameter" if name in READING_COLUMNS else "reading"
            found.append(
                reading.divergence(
                    f"{what} {name} is {_shown(value)} in the database, "
                    f"{_shown(expected)} in the audit trail"
                )
            )
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class TrailSignature:
    """A signature as the audit trail's ``sign`` row recorded it.

    Parameters
    ----------
    snapshot_sha256
        The SHA-256 of the signed version's snapshot.
    signed_by, signed_at
        Who signed and when (ISO text).
    row_hash
        The hash of that row: the chain head at sign-off, an anchor to keep.
    """

    snapshot_sha256: str
    signed_by: str
    signed_at: str
    row_hash: str


def signed_in_trail(
    session: Session, label: str, version: int
) -> TrailSignature | None:
    """The trail's newest ``sign`` row of ``version`` of a reading, if any."""
    for after_values, user, recorded_at, row_hash in session.execute(
        select(
            AuditRow.after_values,
            AuditRow.user_name,
            AuditRow.recorded_at,
            AuditRow.row_hash,
        )
        .where(
            AuditRow.entity_key == label,
            AuditRow.entity == "reading",
            AuditRow.action == "sign",
        )
        .order_by(AuditRow.sequence.desc())
    ):
        try:
            after = json.loads(after_values or "{}")
            if after.get("signed_version") == version:
                return TrailSignature(
                    snapshot_sha256=after["snapshot_sha256"],
                    signed_by=after.get("signed_by", user),
                    signed_at=after.get("signed_at", recorded_at),
                    row_hash=row_hash,
                )
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # not a row the store wrote: the signature is not found
    return None


def signature_problem(
    row: ReadingRow,
    rows: ReadingRows,
    version: ReadingVersionRow | None,
    trail: TrailSignature | None,
) -> str | None:
    """Why a signed reading is not what was signed; ``None`` if it is.

    The rows must hash to the signed version's SHA-256, which must be the hash
    of its snapshot and the one the audit trail recorded at signing; signer and
    time must be the same in the reading, its version and the trail.
    """
    number = row.signed_version
    if version is None:
        return f"signed version {number} is not in the database"
    snapshot = version.snapshot
    if hashlib.sha256(snapshot.encode("utf-8")).hexdigest() != version.snapshot_sha256:
        return f"signed version {number}: its snapshot does not match its SHA-256"
    if trail is None:
        return f"signed version {number} is not in the audit trail"
    if trail.snapshot_sha256 != version.snapshot_sha256:
        return (
            f"signed version {number}: its SHA-256 is not the one the audit trail "
            "recorded at signing"
        )
    signers = {row.signed_by, version.signed_by, trail.signed_by}
    times = {
        _instant(row.signed_at),
        _instant(version.signed_at),
        _instant(trail.signed_at),
    }
    if len(signers) != 1 or len(times) != 1:
        return (
            f"signed version {number}: the reading, the version and the audit trail "
            "name different signers or times"
        )
    if not _is_signed_version(rows, version):
        where = first_difference(rows_from_snapshot(snapshot), rows)
        return (
            f"the stored reading differs from signed version {number} "
            f"({where or 'row order'})"
        )
    return None


def _is_signed_version(rows: ReadingRows, version: ReadingVersionRow) -> bool:
    """Whether the stored ``rows`` are exactly the signed ``version``.

    The snapshot's own SHA-256 is checked against the trail apart. A snapshot
    signed before a later revision added columns lacks them; read back, it holds
    the values that revision gave every row (``later_column_defaults``), so the
    rows are compared with it as read back when the digests differ.
    """
    digest = rows_sha256(rows)
    if digest == version.snapshot_sha256:
        return True
    return digest == rows_sha256(rows_from_snapshot(version.snapshot))


def _version_problem(
    number: int, version: ReadingVersionRow, trail: TrailSignature | None
) -> list[str]:
    if trail is None:
        return [
            f"signed version {number} is in the database but not in the audit trail"
        ]
    problems = []
    digest = hashlib.sha256(version.snapshot.encode("utf-8")).hexdigest()
    if digest != version.snapshot_sha256:
        problems.append(
            f"signed version {number}: its snapshot does not match its SHA-256 "
            "(edited outside recist-app)"
        )
    if trail.snapshot_sha256 != version.snapshot_sha256:
        problems.append(
            f"signed version {number}: its SHA-256 is not the one the audit trail "
            "recorded at signing"
        )
    if version.signed_by != trail.signed_by or _instant(version.signed_at) != (
        _instant(trail.signed_at)
    ):
        problems.append(
            f"signed version {number}: signed by {_shown(version.signed_by)} at "
            f"{_shown(version.signed_at)} in the database, by "
            f"{_shown(trail.signed_by)} at {_shown(_instant(trail.signed_at))} in "
            "the audit trail"
        )
    return problems


def _signatures(
    session: Session,
    reading: _Reading,
    row: ReadingRow,
    rows: ReadingRows,
    trail: dict[int, TrailSignature],
) -> list[Divergence]:
    """Every signed version of one reading against the trail, and the rows."""
    found: list[Divergence] = []
    versions = {
        version.version: version
        for version in session.scalars(
            select(ReadingVersionRow).where(ReadingVersionRow.reading_id == row.id)
        )
    }
    for number in sorted(versions.keys() | trail.keys()):
        version = versions.get(number)
        if version is None:
            found.append(
                reading.divergence(
                    f"signed version {number} is in the audit trail but not in the "
                    "database (deleted outside recist-app)"
                )
            )
            continue
        found += [
            reading.divergence(problem)
            for problem in _version_problem(number, version, trail.get(number))
        ]
    if row.status == ReadingStatus.SIGNED.value:
        version = versions.get(row.signed_version)
        if version is None:
            found.append(
                reading.divergence(
                    f"it is signed (version {row.signed_version}) but that version "
                    "is not in the database"
                )
            )
        elif not _is_signed_version(rows, version):
            where = first_difference(rows_from_snapshot(version.snapshot), rows)
            found.append(
                reading.divergence(
                    f"the stored reading differs from signed version "
                    f"{row.signed_version} ({where or 'row order'})"
                )
            )
    return found


def _cached_responses(
    unit: UnitOfWork,
    session: Session,
    reading: _Reading,
    row: ReadingRow,
    rows: ReadingRows,
) -> list[Divergence]:
    """A cache that claims to be current must be what the rules compute now."""
    cached = session.get(CachedAssessmentRow, row.id)
    if cached is None or (cached.engine_version, cached.reading_revision) != (
        ENGINE_VERSION,
        row.revision,
    ):
        return []  # stale: recomputed before it is shown
    try:
        assessment = assess(unit.reading_from(rows))
    except (StoreError, ReadingError, ValueError):
        return []  # rows the rules cannot assess are reported by the store
    computed = assessment.best_overall_response
    if (
        cached.assessment == canonical_json(assessment_to_dict(assessment))
        and cached.best_overall_response == computed.response.value
        and cached.best_response_confirmed == computed.confirmed
    ):
        return []
    return [
        reading.divergence(
            "its cached responses are not what the rules compute from its rows "
            f"(best overall response {_shown(cached.best_overall_response)} "
            f"cached, {_shown(computed.response.value)} computed)"
        )
    ]


def _by_reading(
    trail: dict[tuple[str, str], Values], labels: set[str]
) -> dict[str, dict[tuple[str, str], Values]]:
    """The trail's rows grouped by reading: label → ``(entity, suffix)`` → values.

    An entity key is ``label / suffix``; labels may hold the separator, so the
    longest label that prefixes the key wins.
    """
    grouped: dict[str, dict[tuple[str, str], Values]] = {}
    for (name, key), values in trail.items():
        parts = key.split(_SEPARATOR)
        for end in range(len(parts) - 1, 0, -1):
            label = _SEPARATOR.join(parts[:end])
            if label in labels:
                suffix = _SEPARATOR.join(parts[end:])
                grouped.setdefault(label, {})[name, suffix] = values
                break
    return grouped


def compare_with_tables(
    unit: UnitOfWork, session: Session, replay: TrailReplay
) -> list[Divergence]:
    """Every difference between the tables and what the replayed trail says."""
    found: list[Divergence] = []
    grouped = _by_reading(replay.rows, set(replay.readings))
    live: set[str] = set()
    readings = session.execute(
        select(ReadingRow, PatientRow.patient_id)
        .join(PatientRow, ReadingRow.patient_row_id == PatientRow.id)
        .order_by(PatientRow.patient_id, ReadingRow.criteria, ReadingRow.reader)
    ).all()
    for row, patient_id in readings:
        label = reading_label(patient_id, row.criteria, row.reader)
        live.add(label)
        reading = _Reading(label, patient_id)
        expected = replay.readings.get(label)
        if expected is None:
            found.append(
                reading.divergence(
                    "the reading is in the database but not in the audit trail "
                    "(added outside recist-app)"
                )
            )
            continue
        rows = unit.stored_rows(session, row, patient_id)
        differences = [
            *_reading_row(reading, row, expected),
            *_child_rows(reading, rows, grouped.get(label, {})),
            *_signatures(session, reading, row, rows, replay.signed.get(label, {})),
        ]
        # A cache made from rows changed since is a consequence, not news.
        found += differences or _cached_responses(unit, session, reading, row, rows)
    for label in sorted(replay.readings.keys() - live):
        found.append(
            Divergence(
                reading=label,
                patient_id=None,
                problem="the reading is in the audit trail but not in the database "
                "(deleted outside recist-app)",
            )
        )
    found += _patients_and_clinical(session, replay)
    found += _adjudications(session, replay)
    found += _adverse_events(session, replay)
    found += [
        Divergence(
            reading=None,
            patient_id=patient_id,
            problem=f"audit row {sequence} holds values recist-app never writes "
            "(edited outside recist-app)",
        )
        for sequence, patient_id in replay.unreadable
    ]
    return found


def _patients_and_clinical(session: Session, replay: TrailReplay) -> list[Divergence]:
    found: list[Divergence] = []
    patients = set(session.scalars(select(PatientRow.patient_id)))
    for patient_id in sorted(patients - replay.patients):
        found.append(
            Divergence(
                reading=None,
                patient_id=patient_id,
                problem="the patient is in the database but not in the audit trail "
                "(added outside recist-app)",
            )
        )
    for patient_id in sorted(replay.patients - patients):
        found.append(
            Divergence(
                reading=None,
                patient_id=patient_id,
                problem="the patient is in the audit trail but not in the database "
                "(deleted outside recist-app)",
            )
        )
    clinical = {
        patient_id: clinical_values(row)
        for row, patient_id in session.execute(
            select(ClinicalRow, PatientRow.patient_id).join(
                PatientRow, ClinicalRow.patient_row_id == PatientRow.id
            )
        )
    }
    found += _compare_keyed(
        clinical,
        replay.clinical,
        patient_of=lambda patient_id: patient_id,
        row_name=lambda _key: "clinical row",
        field_prefix=lambda _key: "clinical",
    )
    return found


def _compare_keyed(
    stored: Mapping[str, Values],
    expected: Mapping[str, Values],
    *,
    patient_of: Callable[[str], str],
    row_name: Callable[[str], str],
    field_prefix: Callable[[str], str],
) -> list[Divergence]:
    """Rows keyed by one string: missing on either side, or a value that differs."""
    found: list[Divergence] = []
    for key in sorted(stored.keys() | expected.keys()):
        values, trail = stored.get(key), expected.get(key)
        if values is None or trail is None:
            where = "audit trail" if values is None else "database"
            other = "database" if values is None else "audit trail"
            found.append(
                Divergence(
                    reading=None,
                    patient_id=patient_of(key),
                    problem=f"{row_name(key)} is in the {where} but not in the {other}",
                )
            )
            continue
        for name, value in values.items():
            if not _same(value, trail.get(name)):
                found.append(
                    Divergence(
                        reading=None,
                        patient_id=patient_of(key),
                        problem=f"{field_prefix(key)} {name} is {_shown(value)} in "
                        f"the database, {_shown(trail.get(name))} in the audit trail",
                    )
                )
    return found


def _adjudications(session: Session, replay: TrailReplay) -> list[Divergence]:
    """Adjudications added, removed or changed outside recist-app (issue 20)."""
    stored = {
        f"{patient_id} / {row.criteria}": adjudication_values(row)
        for row, patient_id in session.execute(
            select(AdjudicationRow, PatientRow.patient_id).join(
                PatientRow, AdjudicationRow.patient_row_id == PatientRow.id
            )
        )
    }
    return _compare_keyed(
        stored,
        replay.adjudications,
        patient_of=lambda key: key.split(" / ")[0],
        row_name=lambda key: f"adjudication {key}",
        field_prefix=lambda key: f"adjudication {key}:",
    )


def _adverse_events(session: Session, replay: TrailReplay) -> list[Divergence]:
    """Adverse events added, removed or changed outside recist-app (issue 17)."""
    stored: Counter[tuple[str, str]] = Counter(
        (event.patient_id, canonical_json(event.audit_values()))
        for event in load_adverse_events(session)
    )
    expected = +replay.adverse_events  # drops the rows deleted since
    found: list[Divergence] = []
    for extra, where, other in (
        (stored - expected, "database", "audit trail"),
        (expected - stored, "audit trail", "database"),
    ):
        for (patient_id, values), count in sorted(extra.items()):
            event = json.loads(values)
            found.append(
                Divergence(
                    reading=None,
                    patient_id=patient_id,
                    problem=f"adverse event {event['term']} (grade "
                    f"{event['grade']}, from {event['start_date']}) is in the "
                    f"{where} but not in the {other}"
                    f"{'' if count == 1 else f' ({count} times)'}",
                )
            )
    return found
