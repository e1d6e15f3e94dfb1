"""The measurement controller without a main window: a document, a volume lookup.

Pixel gestures become millimetres on the volume's own grid (non-square pixels),
one undo step per gesture, the rules of recist.drawing decide the lesion.
"""

from __future__ import annotations

import pytest

from recist_app.recist import LesionRole, LesionTemplate, ReadingError
from recist_app.ui.document import ReadingDocument
from recist_app.ui.measurement_controller import MeasurementController
from recist_app.ui.viewer.measure_tool import DrawnMeasurement
from tests.ui.conftest import (
    BASELINE_SERIES,
    COLUMN_SPACING_MM,
    LESION_SLICE,
    ROW_SPACING_MM,
    disc_volume,
    two_visit_reading,
)

LIVER = LesionTemplate(organ="liver")


@pytest.fixture
def controller(qapp: object) -> tuple[MeasurementController, ReadingDocument]:
    document = ReadingDocument(two_visit_reading())
    volume = disc_volume(BASELINE_SERIES, radius_mm=12.0)
    return (
        MeasurementController(
            document, lambda visit: volume if visit == "BASELINE" else None
        ),
        document,
    )


def test_a_drawing_becomes_one_undo_step_in_millimetres(
    controller: tuple[MeasurementController, ReadingDocument],
) -> None:
    control, document = controller
    drawn = DrawnMeasurement(
        slice_index=LESION_SLICE,
        long_axis_ij=((10.0, 32.0), (50.0, 32.0)),  # 40 columns
        short_axis_ij=((30.0, 20.0), (30.0, 44.0)),  # 24 rows
    )
    assert control.record(drawn, LIVER) == "T01"
    measurement = document.reading.timepoint("BASELINE").measurement("T01")
    assert measurement is not None
    assert measurement.long_axis_mm == round(40 * COLUMN_SPACING_MM, 1)
    assert measurement.short_axis_mm == round(24 * ROW_SPACING_MM, 1)
    assert measurement.geometry is not None
    assert measurement.geometry.sop_instance_uid.endswith(f".{LESION_SLICE + 1}")
    assert document.reading.lesion("T01").role is LesionRole.TARGET
    assert document.selected_lesion_id == "T01"
    assert document.undo_stack.count() == 1
    assert document.undo_stack.undoText() == "Add T01 (30.0 × 24.0 mm) at BASELINE"
    document.undo_stack.undo()
    assert document.reading == two_visit_reading()


def test_a_handle_drag_re_measures_its_own_lesion(
    controller: tuple[MeasurementController, ReadingDocument],
) -> None:
    control, document = controller
    first = DrawnMeasurement(
        slice_index=LESION_SLICE,
        long_axis_ij=((10.0, 32.0), (50.0, 32.0)),
        short_axis_ij=None,
    )
    control.record(first, LIVER)
    edited = DrawnMeasurement(
        slice_index=LESION_SLICE,
        long_axis_ij=((10.0, 32.0), (30.0, 32.0)),
        short_axis_ij=None,
        lesion_id="T01",
    )
    assert control.record(edited, LIVER) == "T01"
    measurement = document.reading.timepoint("BASELINE").measurement("T01")
    assert measurement is not None
    assert measurement.long_axis_mm == 15.0
    assert len(document.reading.lesions) == 1
    assert document.undo_stack.undoText().startswith("Edit T01")


def test_no_images_at_the_visit_is_one_clear_error(
    controller: tuple[MeasurementController, ReadingDocument],
) -> None:
    control, document = controller
    document.set_visit("WEEK 8")
    drawn = DrawnMeasurement(
        slice_index=0, long_axis_ij=((0.0, 0.0), (5.0, 5.0)), short_axis_ij=None
    )
    with pytest.raises(ReadingError, match="visit WEEK 8: no images are loaded"):
        control.record(drawn, LIVER)
    assert document.undo_stack.count() == 0
