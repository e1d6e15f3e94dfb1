"""The editing rules of the measuring tools (recist.drawing), without any viewer.

What a drawing means for the reading: which lesion it measures, which axis counts
(A2: a single line on a node is its short axis), what a re-measurement keeps (J1:
the viable long axis), what cannot be measured (D: non-targets; E: new lesions are
follow-up findings; J1/J4: the viable axis belongs to a measured, non-nodal
target), and where a lesion was drawn nearest a visit.
"""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from recist_app.recist import (
    AxisGeometry,
    DrawnAxes,
    Lesion,
    LesionRole,
    LesionTemplate,
    Measurement,
    MeasurementState,
    NewLesionObservation,
    NewLesionState,
    Reading,
    ReadingError,
    TimePoint,
    UnknownLesionError,
    UnknownVisitError,
    check_drawn_length,
    lesion_geometry_near,
    record_drawn_axes,
    record_viable_axis,
)

SERIES = "1.2.826.0.1.3680043.8.498.7"
LONG = AxisGeometry(start_lps_mm=(0.0, 0.0, 10.0), end_lps_mm=(30.0, 0.0, 10.0))
SHORT = AxisGeometry(start_lps_mm=(15.0, -9.0, 10.0), end_lps_mm=(15.0, 9.0, 10.0))


def _axes(*, short: bool = True, image: int = 3) -> DrawnAxes:
    return DrawnAxes(
        series_instance_uid=SERIES,
        sop_instance_uid=f"{SERIES}.{image}",
        long_axis=LONG,
        long_axis_mm=30.0,
        short_axis=SHORT if short else None,
        short_axis_mm=18.0 if short else None,
    )


def _reading() -> Reading:
    return Reading(
        patient_id="P1",
        lesions=(
            Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver"),
            Lesion(
                lesion_id="T02",
                role=LesionRole.TARGET,
                organ="lymph node",
                is_lymph_node=True,
            ),
            Lesion(lesion_id="NT01", role=LesionRole.NON_TARGET, organ="bone"),
            Lesion(lesion_id="N01", role=LesionRole.NEW, organ="lung"),
        ),
        timepoints=(
            TimePoint(
                visit="BASELINE", date=datetime.date(2024, 1, 1), is_baseline=True
            ),
            TimePoint(visit="WEEK 8", date=datetime.date(2024, 2, 26)),
            TimePoint(visit="WEEK 16", date=datetime.date(2024, 4, 22)),
        ),
    )


LIVER = LesionTemplate(organ="liver", location="segment VIII")


@pytest.mark.parametrize(
    ("visit", "role", "lesion_id"),
    [
        ("BASELINE", LesionRole.TARGET, "T03"),
        ("WEEK 8", LesionRole.NEW, "N02"),
    ],
    ids=["A3_baseline_drawing_creates_a_target", "E1_follow_up_drawing_is_new"],
)
def test_a_drawing_with_nothing_selected_creates_a_lesion_from_the_template(
    visit: str, role: LesionRole, lesion_id: str
) -> None:
    result = record_drawn_axes(_reading(), visit, _axes(), template=LIVER)
    assert result.created
    assert result.lesion_id == lesion_id
    lesion = result.reading.lesion(lesion_id)
    assert (lesion.role, lesion.organ, lesion.location) == (
        role,
        "liver",
        "segment VIII",
    )
    assert result.summary == "30.0 × 18.0 mm"


def test_A2_a_single_line_on_a_node_is_its_short_axis() -> None:
    result = record_drawn_axes(
        _reading(), "BASELINE", _axes(short=False), lesion_id="T02"
    )
    measurement = result.reading.timepoint("BASELINE").measurement("T02")
    assert measurement is not None
    assert (measurement.long_axis_mm, measurement.short_axis_mm) == (None, 30.0)
    assert measurement.geometry is not None
    assert measurement.geometry.long_axis is None
    assert measurement.geometry.short_axis == LONG


def test_A6_a_non_nodal_target_keeps_both_axes_on_its_image() -> None:
    result = record_drawn_axes(_reading(), "BASELINE", _axes(), lesion_id="T01")
    measurement = result.reading.timepoint("BASELINE").measurement("T01")
    assert measurement is not None
    assert (measurement.long_axis_mm, measurement.short_axis_mm) == (30.0, 18.0)
    assert measurement.geometry is not None
    assert measurement.geometry.sop_instance_uid == f"{SERIES}.3"
    assert not result.created


def test_J1_remeasuring_a_target_keeps_its_viable_long_axis() -> None:
    reading = record_viable_axis(
        _reading(), "BASELINE", _axes(short=False), lesion_id="T01"
    ).reading
    shorter = dataclasses.replace(_axes(), long_axis_mm=25.0)
    again = record_drawn_axes(reading, "BASELINE", shorter, lesion_id="T01").reading
    measurement = again.timepoint("BASELINE").measurement("T01")
    assert measurement is not None
    assert measurement.long_axis_mm == 25.0
    assert measurement.viable_long_axis_mm == 30.0
    assert measurement.viable_geometry is not None


def test_E1_measuring_a_new_lesion_keeps_its_state_and_flags() -> None:
    reading = dataclasses.replace(
        _reading(),
        timepoints=(
            _reading().timepoints[0],
            dataclasses.replace(
                _reading().timepoints[1],
                new_lesions=(
                    NewLesionObservation(
                        lesion_id="N01",
                        state=NewLesionState.EQUIVOCAL,
                        typical_vascular_pattern=False,
                    ),
                ),
            ),
            _reading().timepoints[2],
        ),
    )
    result = record_drawn_axes(reading, "WEEK 8", _axes(), lesion_id="N01")
    (observation,) = result.reading.timepoint("WEEK 8").new_lesions
    assert observation.state is NewLesionState.EQUIVOCAL
    assert observation.typical_vascular_pattern is False
    assert (observation.long_axis_mm, observation.short_axis_mm) == (30.0, 18.0)


@pytest.mark.parametrize(
    ("visit", "lesion_id", "template", "error", "message"),
    [
        ("BASELINE", "N01", None, ReadingError, "new lesions are recorded at follow"),
        (
            "BASELINE",
            "",
            LesionTemplate(organ="liver", role=LesionRole.NEW),
            ReadingError,
            "new lesions are recorded at follow-ups",
        ),
        (
            "WEEK 8",
            "",
            LesionTemplate(organ="liver", role=LesionRole.TARGET),
            ReadingError,
            "target lesions are chosen at the baseline",
        ),
        ("BASELINE", "", None, ReadingError, "select a lesion"),
        ("BASELINE", "T09", None, UnknownLesionError, "lesion T09: no such lesion"),
        ("WEEK 99", "T01", None, UnknownVisitError, "visit WEEK 99: no such visit"),
    ],
    ids=[
        "E_new_lesion_not_at_baseline",
        "E_new_role_drawn_at_baseline",
        "A_target_role_drawn_at_follow_up",
        "no_lesion_and_no_template",
        "unknown_lesion",
        "unknown_visit",
    ],
)
def test_drawings_that_break_a_rule_are_refused(
    visit: str,
    lesion_id: str,
    template: LesionTemplate | None,
    error: type[ReadingError],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        record_drawn_axes(
            _reading(), visit, _axes(), lesion_id=lesion_id, template=template
        )


@pytest.mark.parametrize(
    ("lesion_id", "message"),
    [
        ("", "select the target lesion first"),
        ("NT01", "only target lesions have a viable diameter"),
        ("T02", r"lymph nodes keep their short axis under mRECIST \(J4\)"),
    ],
    ids=["J1_needs_a_target", "J1_targets_only", "J4_nodes_have_none"],
)
def test_the_viable_axis_belongs_to_a_non_nodal_target(
    lesion_id: str, message: str
) -> None:
    with pytest.raises(ReadingError, match=message):
        record_viable_axis(
            _reading(), "BASELINE", _axes(short=False), lesion_id=lesion_id
        )


def test_J1_the_viable_axis_needs_a_measured_target() -> None:
    reading = dataclasses.replace(
        _reading(),
        timepoints=(
            dataclasses.replace(
                _reading().timepoints[0],
                measurements=(
                    Measurement(lesion_id="T01", state=MeasurementState.TOO_SMALL),
                ),
            ),
            *_reading().timepoints[1:],
        ),
    )
    with pytest.raises(ReadingError, match="recorded as too small"):
        record_viable_axis(reading, "BASELINE", _axes(short=False), lesion_id="T01")


def test_a_lesion_is_found_at_the_visit_then_earlier_then_later() -> None:
    reading = _reading()
    at_week_16 = record_drawn_axes(
        reading, "WEEK 16", _axes(image=16), lesion_id="T01"
    ).reading
    both = record_drawn_axes(
        at_week_16, "BASELINE", _axes(image=1), lesion_id="T01"
    ).reading

    def image(visit: str) -> str | None:
        found = lesion_geometry_near(both, "T01", visit)
        return None if found is None else found.sop_instance_uid

    assert image("WEEK 16") == f"{SERIES}.16"
    assert image("WEEK 8") == f"{SERIES}.1"  # the closest earlier visit first
    assert image("BASELINE") == f"{SERIES}.1"
    only_later = lesion_geometry_near(at_week_16, "T01", "BASELINE")
    assert only_later is not None
    assert only_later.sop_instance_uid == f"{SERIES}.16"
    assert lesion_geometry_near(reading, "T01", "WEEK 8") is None


@pytest.mark.parametrize(
    ("visit", "role", "expected_id", "expected_role"),
    [
        ("BASELINE", None, "T03", LesionRole.TARGET),
        ("BASELINE", LesionRole.TARGET, "T03", LesionRole.TARGET),
        ("BASELINE", LesionRole.NON_TARGET, "NT02", LesionRole.NON_TARGET),
        ("WEEK 8", None, "N02", LesionRole.NEW),
        ("WEEK 8", LesionRole.NEW, "N02", LesionRole.NEW),
        ("WEEK 8", LesionRole.NON_TARGET, "NT02", LesionRole.NON_TARGET),
    ],
    ids=[
        "A_default_target_at_baseline",
        "A_target_role",
        "D_non_target_role_at_baseline",
        "E_default_new_at_follow_up",
        "E_new_role",
        "D_non_target_role_at_follow_up",
    ],
)
def test_AD_drawing_with_nothing_selected_creates_the_chosen_role(
    visit: str,
    role: LesionRole | None,
    expected_id: str,
    expected_role: LesionRole,
) -> None:
    template = LesionTemplate(organ="liver", role=role)
    result = record_drawn_axes(_reading(), visit, _axes(), template=template)
    assert result.created
    assert result.lesion_id == expected_id
    assert result.reading.lesion(expected_id).role is expected_role


def test_D1_a_line_on_a_non_target_marks_where_it_is_not_its_size() -> None:
    template = LesionTemplate(organ="liver", role=LesionRole.NON_TARGET)
    result = record_drawn_axes(_reading(), "BASELINE", _axes(), template=template)
    timepoint = result.reading.timepoint("BASELINE")
    (assessment,) = [a for a in timepoint.non_target if a.lesion_id == "NT02"]
    assert assessment.state.value == "present"
    assert assessment.geometry is not None
    assert assessment.geometry.long_axis == LONG
    assert timepoint.measurement("NT02") is None  # no diameter recorded (D1)
    assert result.summary == "location marked"
    # The mark is where the viewer jumps to, at any visit.
    assert lesion_geometry_near(result.reading, "NT02", "WEEK 8") == (
        assessment.geometry
    )
    # Drawing on the selected non-target moves its mark and keeps its state.
    again = record_drawn_axes(
        result.reading, "BASELINE", _axes(short=False, image=5), lesion_id="NT02"
    )
    (moved,) = [
        a
        for a in again.reading.timepoint("BASELINE").non_target
        if a.lesion_id == "NT02"
    ]
    assert moved.geometry is not None
    assert moved.geometry.sop_instance_uid.endswith(".5")
    assert moved.state is assessment.state


@pytest.mark.parametrize(
    ("length_mm", "length_px", "refusal"),
    [
        (1.1, 2.0, "the line is 1.1 mm long, shorter than 2 mm"),  # issue 18's jitter
        (1.9, 10.0, "the line is 1.9 mm long, shorter than 2 mm"),
        (10.0, 3.9, r"the line spans 3.9 px on screen \(10.0 mm\), fewer than 4 px"),
        (2.0, 4.0, None),
        (30.0, 40.0, None),
    ],
    ids=["jitter", "under_2_mm", "under_4_px", "at_the_minimum", "a_lesion"],
)
def test_drawn_lines_shorter_than_2_mm_or_4_px_are_refused(
    length_mm: float, length_px: float, refusal: str | None
) -> None:
    """The refusal names the bound the line missed, never a length above it."""
    if refusal is not None:
        with pytest.raises(
            ReadingError, match=f"^visit BASELINE, long axis: {refusal}: not recorded"
        ):
            check_drawn_length(length_mm, length_px, where="visit BASELINE, long axis")
    else:
        check_drawn_length(length_mm, length_px, where="visit BASELINE, long axis")
