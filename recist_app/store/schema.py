"""The database schema as typed SQLAlchemy 2 ORM classes (the migrations' target).

The schema is portable: plain types, named constraints, no SQLite-only SQL, so the
same tables work in a SQLite file and in a shared PostgreSQL database. The Alembic
scripts in :mod:`recist_app.store.migrations` create exactly these tables; a test
compares them.

Findings reference their lesion and visit by foreign key without cascades: nothing is
ever deleted except row by row through the store, which writes an audit row first.
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AdjudicationRow",
    "AdverseEventRow",
    "AuditRow",
    "Base",
    "CachedAssessmentRow",
    "ClinicalRow",
    "LesionRow",
    "MeasurementRow",
    "NewLesionRow",
    "NonTargetRow",
    "PatientRow",
    "ReadingRow",
    "ReadingVersionRow",
    "SeriesFileRow",
    "SeriesRow",
    "StudyRow",
    "TimePointRow",
    "UtcDateTime",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

UID_LENGTH = 64  # DICOM PS3.5 §9.1: a UID has at most 64 characters


class UtcDateTime(TypeDecorator[datetime.datetime]):
    """An aware UTC timestamp on every backend (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime.datetime | None, dialect: Any
    ) -> datetime.datetime | None:
        """Store ``value`` in UTC; naive timestamps are refused."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps stored in the reading database must be aware")
        return value.astimezone(datetime.UTC)

    def process_result_value(
        self, value: datetime.datetime | None, dialect: Any
    ) -> datetime.datetime | None:
        """Read ``value`` back as an aware UTC timestamp."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)


class Base(DeclarativeBase):
    """Declarative base holding the schema's metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PatientRow(Base):
    """A patient, by the trial's patient id (``HCC-001``)."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(UtcDateTime)


class ReadingRow(Base):
    """One reader's reading of one patient under one criteria set, with its status."""

    __tablename__ = "readings"
    __table_args__ = (
        UniqueConstraint("patient_row_id", "criteria", "reader"),
        CheckConstraint("status IN ('draft', 'signed')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_row_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    criteria: Mapped[str] = mapped_column(String(16))
    reader: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(8))
    revision: Mapped[int] = mapped_column(Integer)
    signed_version: Mapped[int] = mapped_column(Integer)
    signed_at: Mapped[datetime.datetime | None] = mapped_column(UtcDateTime)
    signed_by: Mapped[str | None] = mapped_column(String(128))
    amendment_reason: Mapped[str | None] = mapped_column(Text)
    first_dose_date: Mapped[datetime.date | None] = mapped_column(Date)
    confirmation_min_days: Mapped[int] = mapped_column(Integer)
    sd_min_days: Mapped[int] = mapped_column(Integer)
    require_confirmation: Mapped[bool] = mapped_column(Boolean)
    max_ne_between_confirmation: Mapped[int] = mapped_column(Integer)
    too_small_mm: Mapped[float] = mapped_column(Float)
    pd_min_increase_mm: Mapped[float | None] = mapped_column(Float)
    baseline_window_days: Mapped[int] = mapped_column(Integer)
    irecist_confirmation_min_days: Mapped[int] = mapped_column(
        Integer, server_default=text("28")
    )
    irecist_confirmation_max_days: Mapped[int] = mapped_column(
        Integer, server_default=text("56")
    )
    mrecist_pd_min_increase_mm: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(UtcDateTime)
    # revision 0013: who the reading is by in a central review (ReaderRole)
    reader_role: Mapped[str] = mapped_column(
        String(16), server_default=text("'single'")
    )


class LesionRow(Base):
    """A lesion of a reading: stable id, role, organ, location, Tracking UID."""

    __tablename__ = "lesions"
    __table_args__ = (UniqueConstraint("reading_id", "lesion_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reading_id: Mapped[int] = mapped_column(ForeignKey("readings.id"))
    lesion_id: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    organ: Mapped[str] = mapped_column(String(128))
    location: Mapped[str] = mapped_column(String(256))
    is_lymph_node: Mapped[bool] = mapped_column(Boolean)
    tracking_uid: Mapped[str | None] = mapped_column(String(UID_LENGTH))
    is_cystic: Mapped[bool] = mapped_column(Boolean)
    previously_irradiated: Mapped[bool] = mapped_column(Boolean)


class TimePointRow(Base):
    """A visit of a reading: label, date, what was read, slice thickness.

    ``no_disease`` is the reader's "no measurable / no disease" at the visit
    (:attr:`recist_app.recist.TimePoint.no_disease`): without it a visit with no
    finding is not read.
    """

    __tablename__ = "timepoints"
    __table_args__ = (UniqueConstraint("reading_id", "visit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reading_id: Mapped[int] = mapped_column(ForeignKey("readings.id"))
    visit: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    visit_date: Mapped[datetime.date] = mapped_column(Date)
    is_baseline: Mapped[bool] = mapped_column(Boolean)
    slice_thickness_mm: Mapped[float | None] = mapped_column(Float)
    modality: Mapped[str] = mapped_column(String(8))
    study_instance_uid: Mapped[str | None] = mapped_column(String(UID_LENGTH))
    series_instance_uid: Mapped[str | None] = mapped_column(String(UID_LENGTH))
    # revision 0010: the reader's explicit "no disease" (A8), never a default
    no_disease: Mapped[bool] = mapped_column(Boolean, server_default=false())


class _GeometryColumns:
    """Where a finding was drawn: image UIDs, method and axis end points (LPS mm)."""

    geometry_series_instance_uid: Mapped[str | None] = mapped_column(String(UID_LENGTH))
    geometry_sop_instance_uid: Mapped[str | None] = mapped_column(String(UID_LENGTH))
    # revision 0011: "semi-automatic, corrected" needs 25 characters
    geometry_method: Mapped[str | None] = mapped_column(String(32))
    long_axis_start_l_mm: Mapped[float | None] = mapped_column(Float)
    long_axis_start_p_mm: Mapped[float | None] = mapped_column(Float)
    long_axis_start_s_mm: Mapped[float | None] = mapped_column(Float)
    long_axis_end_l_mm: Mapped[float | None] = mapped_column(Float)
    long_axis_end_p_mm: Mapped[float | None] = mapped_column(Float)
    long_axis_end_s_mm: Mapped[float | None] = mapped_column(Float)
    short_axis_start_l_mm: Mapped[float | None] = mapped_column(Float)
    short_axis_start_p_mm: Mapped[float | None] = mapped_column(Float)
    short_axis_start_s_mm: Mapped[float | None] = mapped_column(Float)
    short_axis_end_l_mm: Mapped[float | None] = mapped_column(Float)
    short_axis_end_p_mm: Mapped[float | None] = mapped_column(Float)
    short_axis_end_s_mm: Mapped[float | None] = mapped_column(Float)


class _ViableGeometryColumns:
    """Where the mRECIST viable long axis was drawn (revision 0005).

    The columns of :class:`_GeometryColumns` with a ``viable_`` prefix; the store
    converts both with the same code (``recist_app.store._rows``).
    """

    viable_geometry_series_instance_uid: Mapped[str | None] = mapped_column(
        String(UID_LENGTH)
    )
    viable_geometry_sop_instance_uid: Mapped[str | None] = mapped_column(
        String(UID_LENGTH)
    )
    viable_geometry_method: Mapped[str | None] = mapped_column(String(32))
    viable_long_axis_start_l_mm: Mapped[float | None] = mapped_column(Float)
    viable_long_axis_start_p_mm: Mapped[float | None] = mapped_column(Float)
    viable_long_axis_start_s_mm: Mapped[float | None] = mapped_column(Float)
    viable_long_axis_end_l_mm: Mapped[float | None] = mapped_column(Float)
    viable_long_axis_end_p_mm: Mapped[float | None] = mapped_column(Float)
    viable_long_axis_end_s_mm: Mapped[float | None] = mapped_column(Float)
    viable_short_axis_start_l_mm: Mapped[float | None] = mapped_column(Float)
    viable_short_axis_start_p_mm: Mapped[float | None] = mapped_column(Float)
    viable_short_axis_start_s_mm: Mapped[float | None] = mapped_column(Float)
    viable_short_axis_end_l_mm: Mapped[float | None] = mapped_column(Float)
    viable_short_axis_end_p_mm: Mapped[float | None] = mapped_column(Float)
    viable_short_axis_end_s_mm: Mapped[float | None] = mapped_column(Float)


class MeasurementRow(_GeometryColumns, _ViableGeometryColumns, Base):
    """One target lesion at one visit: diameters (mm), state and geometry.

    ``viable_*`` geometry is where the mRECIST viable long axis was drawn, possibly
    on another series (the arterial phase) than the long and short axes.
    """

    __tablename__ = "measurements"
    __table_args__ = (UniqueConstraint("timepoint_id", "lesion_row_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timepoint_id: Mapped[int] = mapped_column(ForeignKey("timepoints.id"))
    lesion_row_id: Mapped[int] = mapped_column(ForeignKey("lesions.id"))
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    long_axis_mm: Mapped[float | None] = mapped_column(Float)
    short_axis_mm: Mapped[float | None] = mapped_column(Float)
    viable_long_axis_mm: Mapped[float | None] = mapped_column(Float)
    parts_mm: Mapped[list[float]] = mapped_column(JSON)
    merged_into: Mapped[str | None] = mapped_column(String(16))


class NonTargetRow(_GeometryColumns, Base):
    """The state of one non-target lesion at one visit, and where it was marked.

    The geometry columns (revision 0012) hold the line a reader drew to mark the
    lesion (not a measurement, D1), so the viewer can jump back to it.
    """

    __tablename__ = "non_target_assessments"
    __table_args__ = (UniqueConstraint("timepoint_id", "lesion_row_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timepoint_id: Mapped[int] = mapped_column(ForeignKey("timepoints.id"))
    lesion_row_id: Mapped[int] = mapped_column(ForeignKey("lesions.id"))
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32))
    cytology_confirmed: Mapped[bool] = mapped_column(Boolean, server_default=false())


class NewLesionRow(_GeometryColumns, Base):
    """A new lesion seen at one visit, with optional diameters and geometry.

    ``cytology_confirmed`` (revision 0009): a new effusion or ascites proven
    neoplastic, the only kind that is progression under mRECIST (J4).
    """

    __tablename__ = "new_lesion_observations"
    __table_args__ = (UniqueConstraint("timepoint_id", "lesion_row_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timepoint_id: Mapped[int] = mapped_column(ForeignKey("timepoints.id"))
    lesion_row_id: Mapped[int] = mapped_column(ForeignKey("lesions.id"))
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    not_imaged_at_baseline: Mapped[bool] = mapped_column(Boolean)
    long_axis_mm: Mapped[float | None] = mapped_column(Float)
    short_axis_mm: Mapped[float | None] = mapped_column(Float)
    typical_vascular_pattern: Mapped[bool | None] = mapped_column(Boolean)
    cytology_confirmed: Mapped[bool] = mapped_column(Boolean, server_default=false())


class ReadingVersionRow(Base):
    """A signed version of a reading, kept whole so amendments never erase it."""

    __tablename__ = "reading_versions"
    __table_args__ = (UniqueConstraint("reading_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reading_id: Mapped[int] = mapped_column(ForeignKey("readings.id"))
    version: Mapped[int] = mapped_column(Integer)
    signed_at: Mapped[datetime.datetime] = mapped_column(UtcDateTime)
    signed_by: Mapped[str] = mapped_column(String(128))
    amendment_reason: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[str] = mapped_column(Text)
    snapshot_sha256: Mapped[str] = mapped_column(String(64))


class AuditRow(Base):
    """One change: who, when, what, before and after, chained by SHA-256.

    ``recorded_at`` and the values are text so the hashed content reads back
    byte for byte on every backend. ``row_mac`` (revision 0008) is the HMAC of
    ``row_hash`` under the site's audit key, when one was set; it is not part
    of the hashed content. ``entity_key`` is indexed (revision 0008) so a
    reading's rows, and its signature's row, are found without a scan.
    """

    __tablename__ = "audit_log"

    sequence: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False
    )
    recorded_at: Mapped[str] = mapped_column(String(40))
    user_name: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(32))
    entity_key: Mapped[str] = mapped_column(Text, index=True)
    patient_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    before_values: Mapped[str | None] = mapped_column(Text)
    after_values: Mapped[str | None] = mapped_column(Text)
    previous_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64), unique=True)
    row_mac: Mapped[str | None] = mapped_column(String(64))


class StudyRow(Base):
    """A DICOM study found by an import (revision 0002)."""

    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_row_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    study_instance_uid: Mapped[str] = mapped_column(String(UID_LENGTH), unique=True)
    study_date: Mapped[datetime.date | None] = mapped_column(Date)
    study_time: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    accession_number: Mapped[str] = mapped_column(String(16))
    imported_at: Mapped[datetime.datetime] = mapped_column(UtcDateTime)


class SeriesRow(Base):
    """A DICOM series of a study, as discovery grouped it."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    series_instance_uid: Mapped[str] = mapped_column(String(UID_LENGTH), unique=True)
    series_number: Mapped[int | None] = mapped_column(Integer)
    modality: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    series_date: Mapped[datetime.date | None] = mapped_column(Date)
    slice_thickness_mm: Mapped[float | None] = mapped_column(Float)
    phase_hint: Mapped[str] = mapped_column(String(32))
    body_part: Mapped[str] = mapped_column(String(64))
    slice_count: Mapped[int] = mapped_column(Integer)
    volume_count: Mapped[int] = mapped_column(Integer)


class SeriesFileRow(Base):
    """Where one image of a series lives on disk, so reopening needs no rescan."""

    __tablename__ = "series_files"
    __table_args__ = (UniqueConstraint("series_id", "sop_instance_uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"))
    sop_instance_uid: Mapped[str] = mapped_column(String(UID_LENGTH))
    file_path: Mapped[str] = mapped_column(Text)
    instance_number: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)


class CachedAssessmentRow(Base):
    """The responses derived from a reading, with the engine version that made them.

    ``reading_revision`` is the revision of the reading they were derived from
    (revision 0006; before, a SHA-256 of the reading's rows).
    """

    __tablename__ = "cached_assessments"

    reading_id: Mapped[int] = mapped_column(ForeignKey("readings.id"), primary_key=True)
    engine_version: Mapped[str] = mapped_column(String(64))
    reading_revision: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime.datetime] = mapped_column(UtcDateTime)
    best_overall_response: Mapped[str] = mapped_column(String(16))
    best_response_confirmed: Mapped[bool] = mapped_column(Boolean)
    assessment: Mapped[str] = mapped_column(Text)


class ClinicalRow(Base):
    """A patient's clinical dates for the endpoints (revision 0004).

    One row per patient; an import replaces the whole set, so every row has the
    same data cut-off.
    """

    __tablename__ = "clinical_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_row_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), unique=True)
    first_dose_date: Mapped[datetime.date] = mapped_column(Date)
    death_date: Mapped[datetime.date | None] = mapped_column(Date)
    last_known_alive_date: Mapped[datetime.date | None] = mapped_column(Date)
    new_anticancer_therapy_date: Mapped[datetime.date | None] = mapped_column(Date)
    data_cutoff_date: Mapped[datetime.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime.datetime] = mapped_column(UtcDateTime)


class AdverseEventRow(Base):
    """One adverse event of a patient, for the safety endpoints (revision 0007).

    An import replaces the whole set; ``action`` is ``None`` when not given.
    """

    __tablename__ = "adverse_events"
    __table_args__ = (
        CheckConstraint("grade BETWEEN 1 AND 5", name="grade"),
        CheckConstraint(
            "action IS NULL OR action IN "
            "('none', 'interrupted', 'reduced', 'discontinued')",
            name="action",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_row_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    term: Mapped[str] = mapped_column(Text)
    soc: Mapped[str] = mapped_column(Text)
    grade: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[datetime.date] = mapped_column(Date)
    end_date: Mapped[datetime.date | None] = mapped_column(Date)
    serious: Mapped[bool] = mapped_column(Boolean)
    related: Mapped[bool] = mapped_column(Boolean)
    action: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime.datetime] = mapped_column(UtcDateTime)


class AdjudicationRow(Base):
    """The adjudicator's decision for one patient and criteria set (revision 0013).

    ``accepted_role`` is the primary read accepted as final (``reader 1`` or
    ``reader 2``); a new decision replaces it, the audit trail keeps both.
    """

    __tablename__ = "adjudications"
    __table_args__ = (
        UniqueConstraint("patient_row_id", "criteria"),
        CheckConstraint(
            "accepted_role IN ('reader 1', 'reader 2')", name="accepted_role"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_row_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    criteria: Mapped[str] = mapped_column(String(16))
    accepted_role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[datetime.datetime] = mapped_column(UtcDateTime)
