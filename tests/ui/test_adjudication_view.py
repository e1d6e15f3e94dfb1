"""The adjudication view: both blinded reads on the same images, accept one.

Reader 1 read the demo patient as drawn (progression at the last visit); reader 2
measured the same lines but called the visit before it half as large again
(progression there), so the two signed reads disagree on the first PD. The view
lists the patient with that reason, draws each reader's lines on the same slices
in each reader's colour, shows both response timelines, and records the
adjudicator's decision.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from recist_app.recist import Criteria, ReaderRole, Reading
from recist_app.store import open_store
from recist_app.ui.adjudication import READER_COLORS, AdjudicationView
from recist_app.workflows.central_reading import final_records
from recist_app.workflows.images import import_dicom

if TYPE_CHECKING:
    from collections.abc import Iterator

    from recist_app.store import Store
    from tests.exchange.demo import DemoPatient

R1, R2 = ReaderRole.READER_1, ReaderRole.READER_2


def _larger_a_visit_earlier(reading: Reading) -> Reading:
    last = reading.timepoints[-2]
    grown = tuple(
        dataclasses.replace(
            m,
            long_axis_mm=None if m.long_axis_mm is None else m.long_axis_mm * 1.5,
            short_axis_mm=None if m.short_axis_mm is None else m.short_axis_mm * 1.5,
        )
        for m in last.measurements
    )
    return dataclasses.replace(
        reading,
        reader="dr-two",
        timepoints=(
            *reading.timepoints[:-2],
            dataclasses.replace(last, measurements=grown),
            reading.timepoints[-1],
        ),
    )


@pytest.fixture
def central_store(demo: DemoPatient, tmp_path: Path) -> Iterator[Store]:
    folder = Path(os.path.commonpath([str(p) for p in demo.images.values()]))
    with open_store(f"sqlite:///{tmp_path / 'readings.sqlite3'}") as store:
        import_dicom(store, folder, user="importer")
        one = dataclasses.replace(demo.reading, reader="dr-one")
        two = _larger_a_visit_earlier(demo.reading)
        for reading, role in ((one, R1), (two, R2)):
            store.readings.save(reading, user=reading.reader, role=role)
            store.signing.sign(
                reading.patient_id,
                reading.criteria,
                reading.reader,
                user=reading.reader,
            )
        yield store


def test_the_adjudicator_sees_both_reads_and_accepts_one(
    qtbot: Any, central_store: Store, demo: DemoPatient
) -> None:
    patient = demo.reading.patient_id
    view = AdjudicationView(central_store, user="dr-adjudicator")
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.patient_list.count() == 1, timeout=10_000)
    item = view.patient_list.item(0)
    assert item.text().startswith(patient)
    assert "first PD" in item.text()
    assert item.text().endswith("[pending]")

    with qtbot.waitSignal(view.case_loaded, timeout=30_000):
        view.select_patient(patient)
    earlier = demo.reading.timepoints[-2].visit
    view.visit_combo.setCurrentIndex(view.visit_combo.findData(earlier))
    view.visit_combo.activated.emit(view.visit_combo.currentIndex())
    drawn = view.overlays_at(earlier)
    targets = {
        m.lesion_id
        for m in demo.reading.timepoints[-2].measurements
        if m.geometry is not None
    }
    for role in (R1, R2):
        mine = {lesion for who, lesion, _color in drawn if who is role}
        assert mine == targets, role
        assert {c for who, _l, c in drawn if who is role} == {READER_COLORS[role]}
    shown = [o.label for o in view.slice_view._overlays]  # what the viewer paints
    assert any(label.startswith("R1 ") for label in shown)
    assert any(label.startswith("R2 ") for label in shown)
    assert view.slice_view.volume is not None

    # both response timelines: one row per follow-up, then the BOR
    follow_ups = len(demo.reading.timepoints) - 1

    def cell(role: ReaderRole, row: int, column: int) -> str:
        item = view.timelines[role].item(row, column)
        assert item is not None
        return item.text()

    def response(role: ReaderRole, visit: str) -> str:
        rows = range(view.timelines[role].rowCount())
        return cell(role, next(r for r in rows if cell(role, r, 0) == visit), 3)

    for role in (R1, R2):
        table = view.timelines[role]
        assert table.rowCount() == follow_ups + 1
        assert cell(role, follow_ups, 0) == "BOR"
    assert response(R2, earlier) == "PD"
    assert response(R1, earlier) != "PD"
    assert response(R1, "BOR") != response(R2, "BOR")
    assert view.timeline_titles[R2].text() == "reader 2 — dr-two"

    # no reason: refused in one line, nothing recorded
    view.accept_combo.setCurrentIndex(1)
    view.accept_button.click()
    qtbot.waitUntil(lambda: "give the reason" in view.status_label.text())
    assert central_store.central.decisions() == ()

    view.reason_edit.setText(f"reader 2's growth at {earlier} is real")
    with qtbot.waitSignal(view.decided, timeout=10_000) as decided:
        view.accept_button.click()
    record = decided.args[0]
    assert record.accepted_role is R2
    assert record.decided_by == "dr-adjudicator"
    qtbot.waitUntil(lambda: view.patient_list.item(0).text().endswith("[reader 2]"))
    finals, pending = final_records(central_store, criteria=Criteria.RECIST_1_1)
    assert [(r.patient_id, r.reader) for r in finals] == [(patient, "dr-two")]
    assert pending == []
    audit = [e for e in central_store.audit.trail() if e.entity == "adjudication"]
    assert audit[-1].user == "dr-adjudicator"
    view.close()
