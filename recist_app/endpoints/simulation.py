"""A realistic simulated single-arm HCC trial, for the demo, tests and benchmarks.

Each patient gets a baseline with 1–3 target lesions (liver, lung, lymph nodes; RECIST
1.1 measurable and at most two per organ) and 0–2 non-target lesions, then monthly
scans (every ``scan_interval_days`` ± 3 days) until progression, death, a new
anticancer therapy, loss to follow-up or the data cut-off. A latent course per
patient (complete or partial shrinkage, stable disease, primary progression) drives
the lesion diameters with measurement noise; progression shows as ≥ 30 % growth over
the nadir, an unequivocal new lesion, or non-target progression. Some scans are
missed, some are not evaluable, some patients die without progression or start a new
therapy before it, so every PFS censoring row occurs.

Non-nodal targets also carry a viable (arterially enhancing) long axis for mRECIST,
shrinking faster than the whole lesion under treatment (necrosis), so mRECIST can
call PR where RECIST 1.1 calls SD. After the first progression one more scan 4–6
weeks later shows progression going on (growth and an additional new lesion), the
confirmation iRECIST needs to turn iUPD into iCPD; RECIST 1.1 ignores scans after PD.
These extras draw from a second random stream, so the RECIST course of each patient
is the same as without them.

The responses are *not* simulated: they are derived from the diameters by the RECIST
engine, as for real readings. The result is domain objects only; writing files is
the caller's business (``recist-app simulate-trial``).

Adverse events follow the toxicity of lenvatinib with an anti-PD-1 antibody in HCC
(incidences and grade ≥ 3 shares in the range of KEYNOTE-524 and the lenvatinib +
toripalimab phase II): hypertension, diarrhoea, fatigue, anorexia, hypothyroidism,
palmar-plantar erythrodysesthesia, proteinuria, hoarseness, liver enzymes and
bilirubin, platelets, and rarer immune-related events (pneumonitis, colitis,
adrenal insufficiency), mostly starting in the first three months; some recur,
a few patients who die have a grade 5 event on the day of death, a few rows start
before the first dose or after the cut-off (not treatment-emergent), and a few
have no system organ class. The biomarkers are ``pdl1_cps`` (PD-L1 combined
positive score, higher in responders: the marker that goes with response),
``afp_ng_ml`` (alpha-fetoprotein, higher with primary progression) and
``etiology`` (HBV, HCV, non-viral), with some values missing. Both draw from
streams of their own, so the readings are the same with or without them.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import random
from dataclasses import dataclass
from typing import Any

from recist_app.endpoints.adverse_events import AdverseEvent, AeAction
from recist_app.endpoints.biomarkers import BiomarkerTable
from recist_app.endpoints.clinical import ClinicalRecord
from recist_app.endpoints.errors import EndpointError
from recist_app.recist import (
    Lesion,
    Measurement,
    NewLesionObservation,
    NonTargetAssessment,
    Reading,
    TimePoint,
)

__all__ = ["SimulatedTrial", "simulate_trial"]

_COURSES = (("CR", 0.04), ("PR", 0.26), ("SD", 0.42), ("PD", 0.28))
_NON_TARGET_ORGANS = ("portal vein", "bone", "peritoneum", "adrenal gland")
_VIABLE_FRACTION = 0.92  # enhancing share of an untreated target's long axis


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedTrial:
    """Readings and clinical rows of a simulated trial, one per patient.

    ``adverse_events`` are every adverse event row (some not treatment-emergent)
    and ``biomarkers`` one row per patient.
    """

    readings: tuple[Reading, ...]
    clinical: tuple[ClinicalRecord, ...]
    data_cutoff_date: datetime.date
    adverse_events: tuple[AdverseEvent, ...] = ()
    biomarkers: BiomarkerTable | None = None
    second_readings: tuple[Reading, ...] = ()
    """With ``readers=2``: the second blinded reader's readings, one per patient
    in the order of :attr:`readings` (which are then the first reader's)."""


@dataclass(frozen=True, slots=True)
class _Toxicity:
    term: str
    soc: str
    incidence: float  # any grade, per patient
    severe: float  # share of grade >= 3 among those with it
    related: float  # probability an episode is judged related to treatment
    onset_days: float  # mean onset after first dose


_VASCULAR = "Vascular disorders"
_GI = "Gastrointestinal disorders"
_GENERAL = "General disorders and administration site conditions"
_METABOLISM = "Metabolism and nutrition disorders"
_ENDOCRINE = "Endocrine disorders"
_SKIN = "Skin and subcutaneous tissue disorders"
_RENAL = "Renal and urinary disorders"
_RESPIRATORY = "Respiratory, thoracic and mediastinal disorders"
_INVESTIGATIONS = "Investigations"
_MUSCULOSKELETAL = "Musculoskeletal and connective tissue disorders"
_HEPATOBILIARY = "Hepatobiliary disorders"

_TOXICITIES = (
    _Toxicity("Hypertension", _VASCULAR, 0.40, 0.40, 0.95, 20),
    _Toxicity("Diarrhea", _GI, 0.35, 0.10, 0.85, 35),
    _Toxicity("Fatigue", _GENERAL, 0.32, 0.12, 0.80, 25),
    _Toxicity("Anorexia", _METABOLISM, 0.30, 0.12, 0.75, 30),
    _Toxicity("Hypothyroidism", _ENDOCRINE, 0.30, 0.02, 0.95, 60),
    _Toxicity(
        "Palmar-plantar erythrodysesthesia syndrome", _SKIN, 0.24, 0.12, 0.95, 30
    ),
    _Toxicity("Proteinuria", _RENAL, 0.22, 0.18, 0.90, 45),
    _Toxicity("Hoarseness", _RESPIRATORY, 0.20, 0.0, 0.90, 30),
    _Toxicity("Weight loss", _INVESTIGATIONS, 0.18, 0.10, 0.60, 70),
    _Toxicity(
        "Aspartate aminotransferase increased", _INVESTIGATIONS, 0.20, 0.35, 0.60, 30
    ),
    _Toxicity(
        "Alanine aminotransferase increased", _INVESTIGATIONS, 0.16, 0.25, 0.60, 30
    ),
    _Toxicity("Blood bilirubin increased", _INVESTIGATIONS, 0.18, 0.20, 0.50, 40),
    _Toxicity("Platelet count decreased", _INVESTIGATIONS, 0.20, 0.25, 0.70, 35),
    _Toxicity("Nausea", _GI, 0.16, 0.03, 0.70, 20),
    _Toxicity("Abdominal pain", _GI, 0.14, 0.10, 0.30, 40),
    _Toxicity("Rash maculo-papular", _SKIN, 0.13, 0.08, 0.90, 30),
    _Toxicity("Arthralgia", _MUSCULOSKELETAL, 0.12, 0.03, 0.60, 45),
    _Toxicity("Pruritus", _SKIN, 0.11, 0.0, 0.85, 30),
    _Toxicity("Mucositis oral", _GI, 0.10, 0.05, 0.90, 25),
    _Toxicity("Hyperthyroidism", _ENDOCRINE, 0.08, 0.0, 0.95, 40),
    _Toxicity("Pneumonitis", _RESPIRATORY, 0.04, 0.35, 0.95, 90),
    _Toxicity("Colitis", _GI, 0.03, 0.50, 0.95, 80),
    _Toxicity("Adrenal insufficiency", _ENDOCRINE, 0.02, 0.40, 0.95, 100),
)
_FATAL = (
    _Toxicity("Upper gastrointestinal hemorrhage", _GI, 0.0, 1.0, 0.5, 0),
    _Toxicity("Hepatic failure", _HEPATOBILIARY, 0.0, 1.0, 0.2, 0),
)


@dataclass(frozen=True, slots=True)
class _TargetSpec:
    lesion: Lesion
    baseline_mm: float  # the diameter RECIST sums: short axis for nodes
    long_extra_mm: float  # nodes: long axis = short axis + this


@dataclass(slots=True)
class _Course:
    kind: str
    depth: float  # sum ratio at the nadir
    nadir_day: float
    progression_day: float
    progression_mode: str  # "growth", "new", "non-target"
    death_day: float
    new_therapy_day: float | None
    lost_day: float | None
    further_growth: float = 0.0  # confirmation scan: sum ratio added after PD


def simulate_trial(
    n_patients: int = 76,
    *,
    seed: int = 2024,
    enrollment_start: datetime.date = datetime.date(2023, 1, 9),
    enrollment_days: int = 365,
    cutoff_days: int = 760,
    scan_interval_days: int = 28,
    readers: int = 1,
) -> SimulatedTrial:
    """Simulate a trial of ``n_patients``; the same seed gives the same trial.

    With ``readers=2`` a second blinded reader reads the same scans: the first
    reader's readings are those of ``readers=1`` (same seed, same trial), and
    the second reader perceives each patient's course with their own error
    (:func:`_second_reader_course`: the depth of response and the day
    progression is called), which makes the two readers' confirmed BOR differ
    in about a quarter of patients and the first PD in about a third, as
    published central reviews report.

    Parameters
    ----------
    n_patients
        Number of treated patients (≥ 1).
    seed
        Random seed.
    enrollment_start, enrollment_days
        First doses are spread uniformly over this period.
    cutoff_days
        Data cut-off, in days after ``enrollment_start``.
    scan_interval_days
        Scheduled interval between follow-up scans.
    readers
        1 (a site read) or 2 (two blinded central readers).
    """
    if readers not in (1, 2):
        raise EndpointError(f"simulation: readers must be 1 or 2, got {readers}")
    if n_patients < 1:
        raise EndpointError("simulation: n_patients must be >= 1")
    if cutoff_days <= enrollment_days:
        raise EndpointError("simulation: the cut-off must be after enrollment ends")
    rng = random.Random(seed)
    cutoff = enrollment_start + datetime.timedelta(days=cutoff_days)
    width = max(3, len(str(n_patients)))
    readings: list[Reading] = []
    second: list[Reading] = []
    clinical: list[ClinicalRecord] = []
    events: list[AdverseEvent] = []
    markers: dict[str, dict[str, str]] = {}
    for index in range(n_patients):
        patient_id = f"HCC-{index + 1:0{width}d}"
        first_dose = enrollment_start + datetime.timedelta(
            days=rng.randrange(enrollment_days)
        )
        course = _draw_course(rng)
        before = rng.getstate()
        reading, last_scan = _simulate_reading(
            rng,
            random.Random(f"{seed}/{patient_id}"),
            patient_id,
            first_dose,
            course,
            cutoff,
            scan_interval_days,
        )
        readings.append(reading)
        if readers == 2:
            second.append(
                _second_reading(
                    before,
                    random.Random(f"{seed}/reader 2/{patient_id}"),
                    patient_id,
                    first_dose,
                    course,
                    cutoff,
                    scan_interval_days,
                )
            )
        record = _clinical_record(
            rng, patient_id, first_dose, course, cutoff, last_scan
        )
        clinical.append(record)
        events += _adverse_events(
            random.Random(f"{seed}/ae/{patient_id}"), course, record
        )
        markers[patient_id] = _biomarkers(
            random.Random(f"{seed}/biomarkers/{patient_id}"), course
        )
    return SimulatedTrial(
        readings=tuple(readings),
        clinical=tuple(clinical),
        data_cutoff_date=cutoff,
        adverse_events=tuple(events),
        biomarkers=BiomarkerTable(
            names=("pdl1_cps", "afp_ng_ml", "etiology"), values=markers
        ),
        second_readings=tuple(second),
    )


def _second_reader_course(
    rng: random.Random, course: _Course, interval: int
) -> _Course:
    """The course as a second, blinded reader perceives it.

    Readers disagree mostly on how deep a response is (which targets they
    chose, where they put the calipers) and on which scan shows progression:
    the depth is scaled by a log-normal factor (SD 0.45; a complete response is
    seen as partial in a third of patients) and, in 40 % of
    patients, progression is called one or two scans earlier or later.
    """
    depth = min(1.25, course.depth * math.exp(rng.gauss(0.0, 0.45)))
    if course.kind == "CR" and rng.random() < 0.35:  # a residual target seen
        depth = rng.uniform(0.1, 0.35)
    progression = course.progression_day
    if rng.random() < 0.4:
        progression += rng.choice((-1, 1, 1, 2)) * interval
    return dataclasses.replace(
        course, depth=depth, progression_day=max(progression, 20.0)
    )


def _second_reading(
    state: tuple[Any, ...],
    own: random.Random,
    patient_id: str,
    first_dose: datetime.date,
    course: _Course,
    cutoff: datetime.date,
    interval: int,
) -> Reading:
    """The second reader's reading of the same scans (same schedule, own errors).

    ``state`` is the simulation's random state before the first reader's
    reading, so the scan dates drawn are the same; the trial's own random
    stream is left untouched, so adding a reader changes nothing else.
    """
    shared = random.Random()
    shared.setstate(state)
    reading, _last = _simulate_reading(
        shared,
        random.Random(f"{patient_id}/reader 2/extra"),
        patient_id,
        first_dose,
        _second_reader_course(own, course, interval),
        cutoff,
        interval,
    )
    return reading


def _treatment_days(course: _Course, clinical: ClinicalRecord) -> float:
    """Days after the first dose the patient is on treatment (and followed)."""
    first_dose, death = clinical.first_dose_date, clinical.death_date
    return min(
        day
        for day in (
            course.progression_day + 30,
            course.new_therapy_day,
            course.lost_day,
            None if death is None else float((death - first_dose).days),
            float((clinical.data_cutoff_date - first_dose).days),
        )
        if day is not None
    )


def _action(rng: random.Random, grade: int) -> AeAction:
    """Action taken with study treatment, by grade."""
    if grade == 1:
        return AeAction.NONE
    if grade == 2:
        return rng.choices((AeAction.NONE, AeAction.INTERRUPTED), weights=(7, 3))[0]
    if grade == 5:
        return AeAction.DISCONTINUED
    return rng.choices(
        (AeAction.INTERRUPTED, AeAction.REDUCED, AeAction.DISCONTINUED),
        weights=(0.5, 0.35, 0.15) if grade == 3 else (0.4, 0.0, 0.6),
    )[0]


def _episode(
    rng: random.Random,
    clinical: ClinicalRecord,
    toxicity: _Toxicity,
    start_day: float,
    grade: int,
) -> AdverseEvent:
    """One adverse event row: dates, seriousness, relatedness and action."""
    start = clinical.first_dose_date + datetime.timedelta(days=math.floor(start_day))
    end: datetime.date | None = start
    if grade < 5:
        end = start + datetime.timedelta(days=int(rng.expovariate(1 / 30)))
        if end > clinical.data_cutoff_date or rng.random() < 0.1:
            end = None  # ongoing
    serious = grade >= 4 or (grade == 3 and rng.random() < 0.5)
    serious = serious or (grade == 2 and rng.random() < 0.05)
    action = _action(rng, grade)
    return AdverseEvent(
        patient_id=clinical.patient_id,
        term=toxicity.term,
        soc="" if rng.random() < 0.03 else toxicity.soc,
        grade=grade,
        start_date=start,
        end_date=end,
        serious=serious,
        related=rng.random() < toxicity.related,
        action=None if rng.random() < 0.05 else action,
    )


def _grade(rng: random.Random, toxicity: _Toxicity) -> int:
    if rng.random() < toxicity.severe:
        return 4 if rng.random() < 0.1 else 3
    return 1 if rng.random() < 0.6 else 2


def _adverse_events(
    rng: random.Random, course: _Course, clinical: ClinicalRecord
) -> list[AdverseEvent]:
    """One patient's adverse event rows (module docstring)."""
    first_dose, cutoff = clinical.first_dose_date, clinical.data_cutoff_date
    treated_days = _treatment_days(course, clinical)
    events: list[AdverseEvent] = []
    for toxicity in _TOXICITIES:
        if rng.random() >= toxicity.incidence:
            continue
        start_day = rng.expovariate(1 / toxicity.onset_days)
        if start_day > treated_days:
            continue
        events.append(
            _episode(rng, clinical, toxicity, start_day, _grade(rng, toxicity))
        )
        again = start_day + 30 + rng.expovariate(1 / 60)
        if rng.random() < 0.2 and again <= treated_days:  # a second episode
            events.append(
                _episode(rng, clinical, toxicity, again, _grade(rng, toxicity))
            )
    death = clinical.death_date
    if death is not None and rng.random() < 0.08:
        fatal = rng.choice(_FATAL)
        events.append(
            _episode(rng, clinical, fatal, float((death - first_dose).days), 5)
        )
    if rng.random() < 0.05:  # before the first dose: not treatment-emergent
        events.append(
            AdverseEvent(
                patient_id=clinical.patient_id,
                term="Abdominal pain",
                soc=_GI,
                grade=1,
                start_date=first_dose - datetime.timedelta(days=rng.randint(1, 10)),
                related=False,
                action=AeAction.NONE,
            )
        )
    followed_to_cutoff = treated_days >= (cutoff - first_dose).days
    if death is None and followed_to_cutoff and rng.random() < 0.06:
        # Reported after the cut-off: not treatment-emergent in this analysis.
        late = (cutoff - first_dose).days + rng.randint(1, 20)
        events.append(_episode(rng, clinical, _TOXICITIES[1], late, 1))
    return sorted(events, key=lambda e: (e.start_date, e.term))


def _biomarkers(rng: random.Random, course: _Course) -> dict[str, str]:
    """One patient's biomarker values (module docstring); "" is missing."""
    responder = course.kind in ("CR", "PR")
    cps_median = 12.0 if responder else 4.0 if course.kind == "SD" else 2.5
    cps = min(100, round(rng.lognormvariate(math.log(cps_median), 0.9)))
    afp_median = 400.0 if course.kind == "PD" else 120.0
    afp = rng.lognormvariate(math.log(afp_median), 1.6)
    etiology = rng.choices(("HBV", "HCV", "non-viral"), weights=(0.6, 0.15, 0.25))[0]
    return {
        "pdl1_cps": "" if rng.random() < 0.08 else str(cps),
        "afp_ng_ml": "" if rng.random() < 0.03 else f"{afp:.1f}",
        "etiology": etiology,
    }


def _draw_course(rng: random.Random) -> _Course:
    draw = rng.random()
    kind = "PD"
    for name, probability in _COURSES:
        if draw < probability:
            kind = name
            break
        draw -= probability
    if kind == "CR":
        depth, progression = 0.0, rng.expovariate(1 / 700)
    elif kind == "PR":
        depth, progression = rng.uniform(0.25, 0.62), 90 + rng.expovariate(1 / 400)
    elif kind == "SD":
        depth, progression = rng.uniform(0.74, 1.1), 50 + rng.expovariate(1 / 250)
    else:
        depth, progression = 1.0, rng.uniform(20, 80)
    progression = max(progression, 20.0)
    mode = rng.choices(("growth", "new", "non-target"), weights=(0.5, 0.42, 0.08))[0]
    if kind == "CR":
        mode = "new"
    death = progression + rng.expovariate(1 / 420)
    if rng.random() < 0.06:  # death without documented progression
        death = rng.uniform(15, progression)
    new_therapy: float | None = None
    if rng.random() < 0.05:  # new therapy before progression (PFS row 6)
        new_therapy = rng.uniform(60, max(61, progression - 1))
    elif rng.random() < 0.55:  # second-line therapy after progression
        new_therapy = progression + rng.uniform(10, 60)
    lost = rng.uniform(60, 600) if rng.random() < 0.05 else None
    return _Course(
        kind=kind,
        depth=depth,
        nadir_day=rng.uniform(50, 150),
        progression_day=progression,
        progression_mode=mode,
        death_day=death,
        new_therapy_day=new_therapy,
        lost_day=lost,
    )


def _baseline_targets(rng: random.Random) -> list[_TargetSpec]:
    organs = ["liver", *rng.sample(["liver", "lung", "lymph node", "lymph node"], 2)]
    count = rng.choices((1, 2, 3), weights=(0.25, 0.4, 0.35))[0]
    targets: list[_TargetSpec] = []
    per_organ: dict[str, int] = {}
    for organ in organs[:count]:
        if per_organ.get(organ, 0) >= 2:
            continue
        per_organ[organ] = per_organ.get(organ, 0) + 1
        lesion_id = f"T{len(targets) + 1:02d}"
        node = organ == "lymph node"
        if node:
            size, extra = rng.uniform(15, 30), rng.uniform(4, 12)
        elif organ == "lung":
            size, extra = rng.uniform(12, 35), 0.0
        else:
            size, extra = rng.uniform(18, 95), 0.0
        lesion = Lesion(
            lesion_id=lesion_id,
            role="target",  # type: ignore[arg-type]  # validated to LesionRole
            organ=organ,
            is_lymph_node=node,
        )
        targets.append(_TargetSpec(lesion, round(size, 1), round(extra, 1)))
    return targets


def _sum_ratio(course: _Course, day: float) -> float:
    """Latent sum of diameters at ``day`` relative to baseline."""
    if day >= course.progression_day:
        nadir = course.depth if course.kind != "PD" else 1.05
        if course.progression_mode == "growth":
            return nadir * 1.35 + 0.25 + course.further_growth
        return max(nadir, 0.02) + course.further_growth
    if course.kind == "PD":
        return 1.0 + 0.05 * min(1.0, day / 60)
    shrink = min(1.0, day / course.nadir_day)
    return 1.0 - (1.0 - course.depth) * shrink


def _measure(
    rng: random.Random, target: _TargetSpec, ratio: float, *, complete: bool
) -> Measurement:
    lesion = target.lesion
    noise = rng.gauss(1.0, 0.03)
    if lesion.is_lymph_node:
        short = target.baseline_mm * ratio * noise
        if complete:
            short = rng.uniform(5.5, 9.0)
        short = round(max(short, 4.0), 1)
        return Measurement(
            lesion_id=lesion.lesion_id,
            long_axis_mm=round(short + target.long_extra_mm, 1),
            short_axis_mm=short,
        )
    if complete:
        return Measurement(lesion_id=lesion.lesion_id, state="disappeared")  # type: ignore[arg-type]
    long_axis = round(target.baseline_mm * ratio * noise, 1)
    if long_axis < 4.0:
        return Measurement(lesion_id=lesion.lesion_id, state="too_small")  # type: ignore[arg-type]
    return Measurement(
        lesion_id=lesion.lesion_id,
        long_axis_mm=long_axis,
        viable_long_axis_mm=min(
            long_axis, round(long_axis * _VIABLE_FRACTION * min(1.0, ratio) ** 0.6, 1)
        ),
    )


def _simulate_reading(
    rng: random.Random,
    extra_rng: random.Random,
    patient_id: str,
    first_dose: datetime.date,
    course: _Course,
    cutoff: datetime.date,
    interval: int,
) -> tuple[Reading, datetime.date]:
    targets = _baseline_targets(rng)
    non_targets = [
        Lesion(
            lesion_id=f"NT{number:02d}",
            role="non-target",  # type: ignore[arg-type]
            organ=organ,
        )
        for number, organ in enumerate(
            rng.sample(_NON_TARGET_ORGANS, rng.choice((0, 1, 1, 2))), start=1
        )
    ]
    baseline_date = first_dose - datetime.timedelta(days=rng.randint(1, 14))
    timepoints = [
        TimePoint(
            visit="BASELINE",
            date=baseline_date,
            is_baseline=True,
            slice_thickness_mm=5.0,
            measurements=tuple(
                _measure(rng, target, 1.0, complete=False) for target in targets
            ),
            non_target=tuple(
                NonTargetAssessment(lesion_id=lesion.lesion_id)
                for lesion in non_targets
            ),
        )
    ]
    stop_day = min(
        day
        for day in (
            course.death_day,
            course.new_therapy_day,
            course.lost_day,
            float((cutoff - first_dose).days),
        )
        if day is not None
    )
    new_lesions: list[Lesion] = []
    month = 0
    while True:
        month += 1
        day = month * interval + rng.randint(-3, 3)
        if day > stop_day:
            break
        if rng.random() < 0.04:  # missed scan
            continue
        date = first_dose + datetime.timedelta(days=day)
        progressed = day >= course.progression_day
        timepoints.append(
            _follow_up(
                rng,
                f"MONTH {month}",
                date,
                day,
                course,
                targets,
                non_targets,
                new_lesions,
            )
        )
        if progressed:
            confirmation = _confirmation_scan(
                extra_rng, month, day, first_dose, stop_day, course, targets
            )
            if confirmation is not None:
                timepoints.append(
                    _follow_up(
                        extra_rng,
                        *confirmation,
                        targets,
                        non_targets,
                        new_lesions,
                    )
                )
            break
    reading = Reading(
        patient_id=patient_id,
        first_dose_date=first_dose,
        lesions=(*(t.lesion for t in targets), *non_targets, *new_lesions),
        timepoints=tuple(timepoints),
    )
    return reading, timepoints[-1].date


def _confirmation_scan(
    rng: random.Random,
    month: int,
    day: int,
    first_dose: datetime.date,
    stop_day: float,
    course: _Course,
    targets: list[_TargetSpec],
) -> tuple[str, datetime.date, int, _Course] | None:
    """Visit, date, day and course of the scan confirming progression, if any.

    The course is the patient's with the tumour grown further (≥ 5 mm more in the
    sum of the targets) and a second new lesion; ``None`` when the scan would fall
    after death, new therapy, loss to follow-up or the cut-off.
    """
    confirm_day = day + rng.randint(28, 42)
    if confirm_day > stop_day:
        return None
    baseline_sum_mm = sum(t.baseline_mm for t in targets)
    growth = max(0.25, 8.0 / baseline_sum_mm)
    further = _Course(
        kind=course.kind,
        depth=course.depth,
        nadir_day=course.nadir_day,
        progression_day=course.progression_day,
        progression_mode=course.progression_mode,
        death_day=course.death_day,
        new_therapy_day=course.new_therapy_day,
        lost_day=course.lost_day,
        further_growth=growth,
    )
    return (
        f"MONTH {month} CONFIRMATION",
        first_dose + datetime.timedelta(days=confirm_day),
        confirm_day,
        further,
    )


def _follow_up(
    rng: random.Random,
    visit: str,
    date: datetime.date,
    day: int,
    course: _Course,
    targets: list[_TargetSpec],
    non_targets: list[Lesion],
    new_lesions: list[Lesion],
) -> TimePoint:
    progressed = day >= course.progression_day
    ratio = _sum_ratio(course, day)
    complete = (
        course.kind == "CR"
        and day >= course.nadir_day
        and not (progressed and course.progression_mode == "growth")
    )
    measurements = [_measure(rng, t, ratio, complete=complete) for t in targets]
    if not progressed and rng.random() < 0.03:  # one target not assessable → NE
        measurements[0] = Measurement(
            lesion_id=targets[0].lesion.lesion_id,
            state="not_evaluable",  # type: ignore[arg-type]
        )
    if complete:
        nt_state = "absent"
    elif progressed and course.progression_mode == "non-target":
        nt_state = "unequivocal_progression"
    else:
        nt_state = "present"
    non_target = tuple(
        NonTargetAssessment(lesion_id=lesion.lesion_id, state=nt_state)  # type: ignore[arg-type]
        for lesion in non_targets
    )
    observations: tuple[NewLesionObservation, ...] = ()
    needs_new = progressed and (
        course.progression_mode == "new"
        or (course.progression_mode == "non-target" and not non_targets)
    )
    if needs_new and not new_lesions:
        new_lesions.append(_new_lesion(rng, "N01"))
    if course.further_growth:  # confirmation: one more new lesion (H2)
        new_lesions.append(_new_lesion(rng, f"N{len(new_lesions) + 1:02d}"))
    if needs_new or course.further_growth:
        observations = tuple(
            NewLesionObservation(lesion_id=lesion.lesion_id) for lesion in new_lesions
        )
    return TimePoint(
        visit=visit,
        date=date,
        slice_thickness_mm=5.0,
        measurements=tuple(measurements),
        non_target=non_target,
        new_lesions=observations,
    )


def _new_lesion(rng: random.Random, lesion_id: str) -> Lesion:
    return Lesion(
        lesion_id=lesion_id,
        role="new",  # type: ignore[arg-type]
        organ=rng.choice(("liver", "lung", "bone", "peritoneum")),
    )


def _clinical_record(
    rng: random.Random,
    patient_id: str,
    first_dose: datetime.date,
    course: _Course,
    cutoff: datetime.date,
    last_scan: datetime.date,
) -> ClinicalRecord:
    def on(day: float) -> datetime.date:
        return first_dose + datetime.timedelta(days=math.floor(day))

    death = on(course.death_day)
    death_date = death if death <= cutoff and course.lost_day is None else None
    if course.lost_day is not None and course.lost_day < course.death_day:
        last_alive = on(course.lost_day)
    elif death_date is not None:
        last_alive = death_date
    else:
        last_alive = cutoff - datetime.timedelta(days=rng.randint(0, 21))
    last_alive = min(max(last_alive, last_scan, first_dose), cutoff)
    if death_date is not None:
        last_alive = min(last_alive, death_date)
    therapy = course.new_therapy_day
    therapy_date = None if therapy is None else on(therapy)
    if therapy_date is not None and (
        therapy_date > min(cutoff, last_alive) or therapy_date < first_dose
    ):
        therapy_date = None
    return ClinicalRecord(
        patient_id=patient_id,
        first_dose_date=first_dose,
        data_cutoff_date=cutoff,
        death_date=death_date,
        last_known_alive_date=last_alive,
        new_anticancer_therapy_date=therapy_date,
    )
