"""Central reading: blinding, discordance, adjudication and final reads.

``recist-app adjudication list|decide``, ``recist-app agreement`` and the
workstation's worklist, adjudication view and Trial view all go through here.

Two readers (``reader 1``, ``reader 2``) read each patient blinded to each other;
once both primary reads of a patient are signed the patient is *discordant* when
the confirmed best overall responses differ or the first progression is at a
different date (beyond a tolerance in days); both rules can be switched off
(:class:`DiscordanceRules`). The adjudicator accepts one of the two reads, with a
reason (signed and audited, ``store.central.decide``); that read is the
patient's final read. A concordant patient's final read is reader 1's
(configurable). A patient read only at the site (``single``) keeps that read.

Blinding lives in one place, :func:`visible_records`: every listing and loading
workflow (worklist, open a reading, exports, endpoints, the Trial view) asks it
which readings the person working may see. A primary reader sees only readings
of their own role until both primary reads of the patient are signed.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from recist_app.endpoints import ReaderAgreement, ReaderPair, reader_agreement
from recist_app.recist import Criteria, ReaderRole, ReadingError
from recist_app.store import AdjudicationRecord, ReadingStatus
from recist_app.workflows.errors import WorkflowError
from recist_app.workflows.vocabulary import current_role, current_user

if TYPE_CHECKING:
    import datetime
    from collections.abc import Iterable, Sequence

    from recist_app.recist import Assessment, Reading
    from recist_app.store import ReadingRecord, Store

__all__ = [
    "ADJUDICATION_COLUMNS",
    "AdjudicationCase",
    "AdjudicationRecord",
    "CentralStatus",
    "DiscordanceRules",
    "PrimaryRead",
    "Viewer",
    "adjudication_case",
    "adjudication_csv_text",
    "adjudication_list",
    "adjudication_table_text",
    "agreement_report",
    "central_statuses",
    "check_visible",
    "current_viewer",
    "decide",
    "final_records",
    "visible_records",
]

_PROGRESSION = frozenset({"PD", "iUPD", "iCPD"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Viewer:
    """Who is working: the audit user and the central-review role."""

    user: str
    role: ReaderRole = ReaderRole.SINGLE


def current_viewer(role: ReaderRole | None = None) -> Viewer:
    """The person working: :func:`current_user` and ``role`` or :func:`current_role`."""
    return Viewer(user=current_user(), role=role or current_role())


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscordanceRules:
    """When two signed primary reads send a patient to adjudication.

    Parameters
    ----------
    compare_bor
        Discordant when the confirmed best overall responses differ.
    compare_pd_date
        Discordant when only one reader found progression, or both did more
        than ``pd_tolerance_days`` apart.
    pd_tolerance_days
        Days the two first-PD dates may differ and still agree (0: same date).
    concordant_final
        The read a concordant patient takes as final (``reader 1`` by default).
    """

    compare_bor: bool = True
    compare_pd_date: bool = True
    pd_tolerance_days: int = 0
    concordant_final: ReaderRole = ReaderRole.READER_1

    def __post_init__(self) -> None:
        if self.pd_tolerance_days < 0:
            raise WorkflowError(
                f"--pd-tolerance-days: must be >= 0, got {self.pd_tolerance_days}"
            )
        if not ReaderRole(self.concordant_final).is_primary:
            raise WorkflowError(
                "--concordant-final: choose 'reader 1' or 'reader 2', not "
                f"{self.concordant_final!r}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class PrimaryRead:
    """One primary reader's read of a patient, as the worklist shows it."""

    role: ReaderRole
    record: ReadingRecord
    bor: str | None = None
    first_pd_visit: str | None = None
    first_pd_date: datetime.date | None = None

    @property
    def signed(self) -> bool:
        """Whether the read is signed."""
        return self.record.status is ReadingStatus.SIGNED


@dataclass(frozen=True, slots=True, kw_only=True)
class CentralStatus:
    """A patient's central review under one criteria set.

    ``discordant`` is ``None`` until both primary reads are signed; ``reasons``
    say why the reads disagree; ``final_role`` is the read that counts (``None``
    while pending, with ``pending`` saying why).
    """

    patient_id: str
    criteria: Criteria
    reads: dict[ReaderRole, PrimaryRead] = field(default_factory=dict)
    discordant: bool | None = None
    reasons: tuple[str, ...] = ()
    decision: AdjudicationRecord | None = None
    final_role: ReaderRole | None = None
    pending: str | None = None

    @property
    def both_signed(self) -> bool:
        """Whether reader 1's and reader 2's reads are both signed."""
        return all(
            role in self.reads and self.reads[role].signed
            for role in (ReaderRole.READER_1, ReaderRole.READER_2)
        )

    @property
    def reason(self) -> str:
        """The discordance in one phrase (``""`` when concordant or not yet known)."""
        return "; ".join(self.reasons)

    def status_of(self, role: ReaderRole) -> str:
        """``signed``, ``draft`` or ``not started`` for a primary role."""
        read = self.reads.get(role)
        return "not started" if read is None else read.record.status.value


def _progression(assessment: Assessment) -> tuple[str | None, datetime.date | None]:
    for timepoint in assessment.timepoints:
        response = timepoint.overall_response
        if response is not None and response.value in _PROGRESSION:
            return timepoint.visit, timepoint.date
    return None, None


def _primary_read(store: Store, record: ReadingRecord) -> PrimaryRead:
    bor = pd_visit = None
    pd_date = None
    try:
        assessment = store.responses.load(
            record.patient_id, record.criteria, record.reader
        )
    except ReadingError:
        pass
    else:
        if assessment.baseline.read:
            # confirmed or not as the reading's require_confirmation says
            bor = assessment.best_overall_response.response.value
        pd_visit, pd_date = _progression(assessment)
    return PrimaryRead(
        role=record.reader_role,
        record=record,
        bor=bor,
        first_pd_visit=pd_visit,
        first_pd_date=pd_date,
    )


def _discordance(
    one: PrimaryRead, two: PrimaryRead, rules: DiscordanceRules
) -> tuple[str, ...]:
    reasons: list[str] = []
    if rules.compare_bor and one.bor != two.bor:
        reasons.append(f"BOR {one.bor or '-'} vs {two.bor or '-'}")
    if rules.compare_pd_date:
        a, b = one.first_pd_date, two.first_pd_date
        if (a is None) != (b is None):
            reasons.append(
                f"first PD {one.first_pd_visit or 'none'} vs "
                f"{two.first_pd_visit or 'none'}"
            )
        elif a is not None and b is not None:
            apart = abs((a - b).days)
            if apart > rules.pd_tolerance_days:
                reasons.append(
                    f"first PD {one.first_pd_visit} vs {two.first_pd_visit} "
                    f"({apart} days apart)"
                )
    return tuple(reasons)


def central_statuses(
    store: Store,
    *,
    criteria: Criteria | None = None,
    rules: DiscordanceRules | None = None,
    records: Sequence[ReadingRecord] | None = None,
) -> tuple[CentralStatus, ...]:
    """Every patient with a central read (a reader 1 or reader 2 reading).

    Parameters
    ----------
    criteria
        Only this criteria set (default: every set with central reads).
    rules
        The discordance rules (default: :class:`DiscordanceRules`).
    records
        The readings to consider (default: every stored reading).
    """
    rules = rules or DiscordanceRules()
    found = store.readings.list() if records is None else records
    decisions = {(d.patient_id, d.criteria): d for d in store.central.decisions()}
    groups: dict[tuple[str, Criteria], list[ReadingRecord]] = {}
    for record in found:
        if record.reader_role.is_primary and (
            criteria is None or record.criteria is criteria
        ):
            groups.setdefault((record.patient_id, record.criteria), []).append(record)
    statuses: list[CentralStatus] = []
    for (patient_id, criterion), group in sorted(groups.items()):
        reads = {r.reader_role: _primary_read(store, r) for r in group}
        status = CentralStatus(patient_id=patient_id, criteria=criterion, reads=reads)
        decision = decisions.get((patient_id, criterion))
        if not status.both_signed:
            missing = [
                f"{role.value} {status.status_of(role)}"
                for role in (ReaderRole.READER_1, ReaderRole.READER_2)
                if status.status_of(role) != "signed"
            ]
            statuses.append(
                dataclasses.replace(status, pending="waiting for " + ", ".join(missing))
            )
            continue
        reasons = _discordance(
            reads[ReaderRole.READER_1], reads[ReaderRole.READER_2], rules
        )
        if not reasons:
            statuses.append(
                dataclasses.replace(
                    status, discordant=False, final_role=rules.concordant_final
                )
            )
        elif decision is None:
            statuses.append(
                dataclasses.replace(
                    status,
                    discordant=True,
                    reasons=reasons,
                    pending="waiting for adjudication",
                )
            )
        else:
            statuses.append(
                dataclasses.replace(
                    status,
                    discordant=True,
                    reasons=reasons,
                    decision=decision,
                    final_role=decision.accepted_role,
                )
            )
    return tuple(statuses)


# ------------------------------------------------------------------ blinding


def _unblinded(records: Iterable[ReadingRecord]) -> set[str]:
    """Patients whose every central criteria set has both primary reads signed.

    Only the readings' roles and statuses count (no responses are read), so the
    rule costs one listing of the readings.
    """
    signed: dict[tuple[str, Criteria], set[ReaderRole]] = {}
    for record in records:
        if record.reader_role.is_primary:
            roles = signed.setdefault((record.patient_id, record.criteria), set())
            if record.status is ReadingStatus.SIGNED:
                roles.add(record.reader_role)
    both = {ReaderRole.READER_1, ReaderRole.READER_2}
    blinded = {patient for (patient, _c), roles in signed.items() if roles != both}
    return {patient for patient, _c in signed} - blinded


def visible_records(
    store: Store,
    viewer: Viewer,
    records: Sequence[ReadingRecord] | None = None,
) -> tuple[ReadingRecord, ...]:
    """The readings ``viewer`` may see: THE blinding rule of the application.

    A primary reader (``reader 1``, ``reader 2``) sees only readings of their
    own role for a patient until both primary reads of that patient are signed;
    then everything. Everybody else (``single``, ``adjudicator``) sees every
    reading.
    """
    found = tuple(store.readings.list() if records is None else records)
    if not viewer.role.is_primary:
        return found
    unblinded = _unblinded(store.readings.list())
    return tuple(
        r for r in found if r.reader_role is viewer.role or r.patient_id in unblinded
    )


def check_visible(store: Store, viewer: Viewer, record: ReadingRecord) -> None:
    """Refuse to show ``record`` to ``viewer`` when the blinding hides it.

    Raises
    ------
    WorkflowError
        The reading is another reader's and the patient is still blinded.
    """
    if record not in visible_records(store, viewer, [record]):
        raise WorkflowError(
            f"{record.label}: blinded: as {viewer.role.value} you see "
            f"{record.reader_role.value}'s read of patient {record.patient_id} "
            "only once both primary reads are signed"
        )


# ------------------------------------------------------------------ adjudication

ADJUDICATION_COLUMNS = (
    "patient_id",
    "criteria",
    "reader_1",
    "reader_1_status",
    "reader_1_bor",
    "reader_1_first_pd",
    "reader_2",
    "reader_2_status",
    "reader_2_bor",
    "reader_2_first_pd",
    "reason",
    "decision",
    "decided_by",
    "adjudication_reason",
)


def adjudication_list(
    store: Store,
    *,
    criteria: Criteria | None = None,
    rules: DiscordanceRules | None = None,
    include_decided: bool = True,
) -> tuple[CentralStatus, ...]:
    """The discordant patients (both primary reads signed, reads disagree)."""
    return tuple(
        s
        for s in central_statuses(store, criteria=criteria, rules=rules)
        if s.discordant and (include_decided or s.decision is None)
    )


def _cells(status: CentralStatus) -> tuple[str, ...]:
    cells: list[str] = [status.patient_id, status.criteria.value]
    for role in (ReaderRole.READER_1, ReaderRole.READER_2):
        read = status.reads.get(role)
        cells += [
            "" if read is None else read.record.reader,
            status.status_of(role),
            (read.bor if read is not None else None) or "-",
            (read.first_pd_visit if read is not None else None) or "none",
        ]
    decision = status.decision
    cells += [
        status.reason,
        "pending" if decision is None else decision.accepted_role.value,
        "" if decision is None else decision.decided_by,
        "" if decision is None else decision.reason,
    ]
    return tuple(cells)


def adjudication_csv_text(statuses: Sequence[CentralStatus]) -> str:
    """The adjudication list as CSV (:data:`ADJUDICATION_COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ADJUDICATION_COLUMNS)
    writer.writerows(_cells(s) for s in statuses)
    return buffer.getvalue()


def adjudication_table_text(statuses: Sequence[CentralStatus]) -> str:
    """The adjudication list as an aligned table (``no discordant patient``)."""
    if not statuses:
        return "no discordant patient\n"
    titles: tuple[str, ...] = ("patient", "criteria", "reader 1", "BOR 1", "PD 1")
    titles += ("reader 2", "BOR 2", "PD 2", "reason", "decision")
    rows: list[tuple[str, ...]] = [titles]
    for s in statuses:
        c = _cells(s)
        rows.append((c[0], c[1], c[2], c[4], c[5], c[6], c[8], c[9], c[10], c[11]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(titles))]
    return "".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        + "\n"
        for r in rows
    )


def decide(
    store: Store,
    patient_id: str,
    *,
    accept: ReaderRole,
    reason: str,
    user: str,
    criteria: Criteria = Criteria.RECIST_1_1,
    rules: DiscordanceRules | None = None,
) -> AdjudicationRecord:
    """The adjudicator accepts one primary read of a discordant patient.

    Raises
    ------
    WorkflowError
        The patient has no central read under ``criteria``, both primary reads
        are not signed yet, or they agree (nothing to adjudicate).
    StoreError
        The decision is refused (no reason, not reader 1 or 2).
    """
    if not ReaderRole(accept).is_primary:
        raise WorkflowError(
            f"adjudicating {patient_id}: --accept 'reader 1' or 'reader 2', not "
            f"{accept.value!r}"
        )
    found = [
        s
        for s in central_statuses(store, criteria=criteria, rules=rules)
        if s.patient_id == patient_id
    ]
    if not found:
        raise WorkflowError(
            f"adjudicating {patient_id}: no reader 1 / reader 2 reading under "
            f"{criteria.value} in {store.url}"
        )
    status = found[0]
    if not status.both_signed:
        raise WorkflowError(f"adjudicating {patient_id}: {status.pending}")
    if not status.discordant:
        raise WorkflowError(
            f"adjudicating {patient_id}: the two reads agree; the final read is "
            f"{status.final_role.value if status.final_role else 'reader 1'}'s"
        )
    return store.central.decide(patient_id, criteria, accept, reason=reason, user=user)


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjudicationCase:
    """What the adjudicator reviews: both signed reads and their responses."""

    status: CentralStatus
    readings: dict[ReaderRole, Reading]
    assessments: dict[ReaderRole, Assessment]


def adjudication_case(
    store: Store,
    patient_id: str,
    *,
    criteria: Criteria = Criteria.RECIST_1_1,
    rules: DiscordanceRules | None = None,
) -> AdjudicationCase:
    """Both primary reads of ``patient_id`` for the adjudication view.

    Raises
    ------
    WorkflowError
        The patient has no central read under ``criteria`` or both reads are
        not signed yet (the adjudicator never sees an unfinished read).
    """
    found = [
        s
        for s in central_statuses(store, criteria=criteria, rules=rules)
        if s.patient_id == patient_id
    ]
    if not found:
        raise WorkflowError(
            f"patient {patient_id}: no reader 1 / reader 2 reading under "
            f"{criteria.value}"
        )
    status = found[0]
    if not status.both_signed:
        raise WorkflowError(f"patient {patient_id}: {status.pending}")
    readings: dict[ReaderRole, Reading] = {}
    assessments: dict[ReaderRole, Assessment] = {}
    for role in (ReaderRole.READER_1, ReaderRole.READER_2):
        record = status.reads[role].record
        key = (record.patient_id, record.criteria, record.reader)
        readings[role] = store.signing.load_signed(*key).reading
        assessments[role] = store.responses.load(*key)
    return AdjudicationCase(status=status, readings=readings, assessments=assessments)


# ------------------------------------------------------------------ final reads


def final_records(
    store: Store,
    *,
    criteria: Criteria = Criteria.RECIST_1_1,
    rules: DiscordanceRules | None = None,
    records: Sequence[ReadingRecord] | None = None,
) -> tuple[list[ReadingRecord], list[tuple[str, str]]]:
    """The readings that count: final central reads, and site reads elsewhere.

    Returns ``(records, pending)``: every reading of ``records`` (default: all)
    except, for a patient with central reads under ``criteria``, the ones that
    are not the final read; ``pending`` names each central patient without a
    final read yet and why (``(patient_id, reason)``).
    """
    found = list(store.readings.list() if records is None else records)
    statuses = central_statuses(store, criteria=criteria, rules=rules, records=found)
    by_patient = {s.patient_id: s for s in statuses}
    chosen: list[ReadingRecord] = []
    pending: list[tuple[str, str]] = []
    for status in statuses:
        if status.final_role is None:
            pending.append(
                (status.patient_id, f"central read pending: {status.pending}")
            )
    for record in found:
        central = by_patient.get(record.patient_id)
        if central is None or (
            record.criteria is criteria and record.reader_role is central.final_role
        ):
            chosen.append(record)
    return chosen, pending


def agreement_report(
    store: Store,
    *,
    criteria: Criteria = Criteria.RECIST_1_1,
    rules: DiscordanceRules | None = None,
) -> ReaderAgreement:
    """BOR and PD-date agreement, adjudication rate and reader bias.

    Over the patients whose two primary reads under ``criteria`` are signed.

    Raises
    ------
    WorkflowError
        No patient has both primary reads signed.
    """
    rules = rules or DiscordanceRules()
    pairs = []
    for status in central_statuses(store, criteria=criteria, rules=rules):
        if not status.both_signed:
            continue
        one, two = status.reads[ReaderRole.READER_1], status.reads[ReaderRole.READER_2]
        pairs.append(
            ReaderPair(
                patient_id=status.patient_id,
                bor_reader_1=one.bor or "-",
                bor_reader_2=two.bor or "-",
                pd_date_reader_1=one.first_pd_date,
                pd_date_reader_2=two.first_pd_date,
                discordant=bool(status.discordant),
                accepted=(
                    None
                    if status.decision is None
                    else status.decision.accepted_role.value
                ),
            )
        )
    if not pairs:
        raise WorkflowError(
            f"database {store.url}: no patient has both primary reads (reader 1, "
            f"reader 2) signed under {criteria.value}"
        )
    return reader_agreement(pairs, pd_tolerance_days=rules.pd_tolerance_days)
