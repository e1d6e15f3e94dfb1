"""Endpoints under iRECIST and mRECIST (issue 8): iCPD is the progression event."""

from __future__ import annotations

import dataclasses

import pytest

from recist_app.endpoints import (
    EndpointError,
    SubjectEndpoints,
    compute_trial_endpoints,
    endpoint_response,
    simulate_trial,
    summary_table,
)
from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    Reading,
    Response,
    TimePoint,
)
from tests.endpoints._builders import FIRST_DOSE, day, make_clinical


def node_reading(patient_id: str, short_axes_mm: list[tuple[int, float]]) -> Reading:
    """One nodal target, baseline short axis 20 mm; follow-ups (study day, mm)."""

    def measured(short_mm: float) -> Measurement:
        return Measurement(
            lesion_id="T01", long_axis_mm=short_mm + 5, short_axis_mm=short_mm
        )

    return Reading(
        patient_id=patient_id,
        first_dose_date=FIRST_DOSE,
        lesions=(
            Lesion(
                lesion_id="T01",
                role=LesionRole.TARGET,
                organ="lymph node",
                is_lymph_node=True,
            ),
        ),
        timepoints=(
            TimePoint(
                visit="BASELINE",
                date=day(-7),
                is_baseline=True,
                measurements=(measured(20.0),),
            ),
            *(
                TimePoint(visit=f"VISIT {n}", date=day(d), measurements=(measured(mm),))
                for n, (d, mm) in enumerate(short_axes_mm, start=1)
            ),
        ),
    )


CONFIRMED = node_reading("CONFIRMED", [(28, 15.0), (56, 30.0), (84, 36.0)])
PSEUDO = node_reading("PSEUDO", [(28, 15.0), (56, 30.0), (84, 15.0)])
PENDING = node_reading("PENDING", [(28, 15.0), (56, 30.0)])


def subject(
    reading: Reading, criteria: Criteria, *, new_therapy: int | None = None
) -> SubjectEndpoints:
    result = compute_trial_endpoints(
        [reading],
        [make_clinical(reading.patient_id, new_therapy=new_therapy)],
        criteria=criteria,
    )
    assert result.criteria is criteria
    return result.subject(reading.patient_id)


def test_icpd_is_the_event_dated_at_the_iupd_it_confirms() -> None:
    recist = subject(CONFIRMED, Criteria.RECIST_1_1)
    irecist = subject(CONFIRMED, Criteria.IRECIST)
    assert [v.overall_response for v in irecist.visits] == [
        Response.ISD,
        Response.IUPD,
        Response.ICPD,
    ]
    assert irecist.pfs.event
    assert irecist.pfs.end_date == recist.pfs.end_date == day(56)
    assert irecist.bor_category == "iCPD"  # the iSD at day 28 is too early (G4)


def test_pseudo_progression_reset_by_isd_is_no_event_under_irecist() -> None:
    assert subject(PSEUDO, Criteria.RECIST_1_1).pfs.end_date == day(56)
    irecist = subject(PSEUDO, Criteria.IRECIST)
    assert not irecist.pfs.event
    assert irecist.pfs.end_date == day(84)  # censored at the last assessment
    assert irecist.progression_date is None
    assert irecist.disease_control


def test_iupd_pending_at_the_cut_off_is_censored_there() -> None:
    irecist = subject(PENDING, Criteria.IRECIST)
    assert not irecist.pfs.event
    assert irecist.pfs.end_date == day(56)
    assert subject(PENDING, Criteria.RECIST_1_1).pfs.event


def test_iupd_then_new_therapy_before_confirmation_counts_as_progression() -> None:
    irecist = subject(PENDING, Criteria.IRECIST, new_therapy=70)
    assert irecist.pfs.event
    assert irecist.pfs.end_date == day(56)


def test_irecist_codes_count_as_their_recist_categories() -> None:
    assert endpoint_response(Response.ICR) is Response.CR
    assert endpoint_response(Response.IPR) is Response.PR
    assert endpoint_response(Response.ISD) is Response.SD
    assert endpoint_response(Response.ICPD) is Response.PD
    assert endpoint_response(Response.IUPD) is Response.IUPD
    assert endpoint_response(Response.PR) is Response.PR


def test_irecist_responder_counts_for_orr_and_dor() -> None:
    responder = node_reading("R", [(28, 12.0), (56, 12.0), (84, 12.0)])
    result = compute_trial_endpoints(
        [responder], [make_clinical("R")], criteria="iRECIST"
    )
    assert result.orr.count == 1
    assert result.bor_counts_confirmed["iPR"] == 1
    assert "ORR (iCR+iPR)" in summary_table(result).rows[3][0]
    assert result.subjects[0].dor is not None


def test_simulated_trial_differs_by_criteria_where_the_rules_differ() -> None:
    trial = simulate_trial(76)
    recist = compute_trial_endpoints(trial.readings, trial.clinical)
    irecist = compute_trial_endpoints(
        trial.readings, trial.clinical, criteria=Criteria.IRECIST
    )
    mrecist = compute_trial_endpoints(
        trial.readings, trial.clinical, criteria=Criteria.MRECIST
    )
    # Viable diameters shrink faster than whole lesions: more mRECIST responders.
    assert mrecist.orr.count > recist.orr.count
    assert irecist.orr.count == recist.orr.count
    # iCPD needs a confirmation: fewer PFS events, never more.
    assert irecist.pfs.events < recist.pfs.events
    assert irecist.bor_counts_confirmed["iCPD"] > 0
    assert summary_table(mrecist).rows[0] == ("Response criteria", "mRECIST")


def test_mixed_criteria_without_a_choice_is_an_error() -> None:
    other = dataclasses.replace(PENDING, patient_id="B", criteria=Criteria.IRECIST)
    with pytest.raises(EndpointError, match="several criteria"):
        compute_trial_endpoints(
            [CONFIRMED, other], [make_clinical("CONFIRMED"), make_clinical("B")]
        )
