"""Measure less by hand: the Auto tool, registration and Enter at a follow-up.

Everything here computes through :mod:`recist_app.workflows.measure` on two
:class:`~recist_app.ui.background.TaskRunner` threads, so the images never stop
answering:

- **Auto tool** (M): a click segments the lesion under it in 3-D
  (:func:`~recist_app.workflows.measure.measure_at_point`); its outline shows on
  every slice it covers, its long and short axis are recorded like drawn lines
  (one undo step, the same role rules, method ``semi-automatic``) and the view
  goes to the slice of the greatest long axis. A drag refines the last result:
  outward (away from where it was clicked) grows the region, inward shrinks it,
  by the ratio of the distances; the result replaces the last one in the same
  undo step. Esc drops a run in progress (its result is never recorded).
- **Registration**: when a follow-up is read (or shown beside another visit),
  it is registered to the baseline and to the visits beside it
  (:func:`~recist_app.workflows.measure.registration_for`, cached per pair).
  Until then, and when it fails (one status line), viewports link by table
  position; with it, by anatomy (:meth:`AutoMeasure.map_between`).
- **Predicted positions**: each lesion measured at an earlier visit but not yet
  at the follow-up read is looked for there
  (:func:`~recist_app.workflows.measure.propagate_to`) and marked ``T02?``.
- **Enter** with such a lesion selected measures it at its predicted position
  (:func:`~recist_app.workflows.measure.measure_predicted`) and records it for
  that lesion, semi-automatic, for the reader to check and correct.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shiboken6
from PySide6.QtCore import QObject, Signal

from recist_app.imaging import index_to_lps_mm, lps_mm_to_index
from recist_app.recist import LesionRole, ReadingError, lesion_geometry_at
from recist_app.ui.background import TaskRunner
from recist_app.ui.viewer.measure_tool import PositionMarker
from recist_app.workflows.errors import describe_error
from recist_app.workflows.measure import (
    forget_registrations,
    map_point,
    measure_at_point,
    measure_predicted,
    propagate_to,
    registration_for,
)

if TYPE_CHECKING:
    from recist_app.imaging import ImageVolume
    from recist_app.imaging.registration import SeriesRegistration
    from recist_app.recist import LesionTemplate, MeasurementGeometry, Reading
    from recist_app.ui.background import Task
    from recist_app.ui.main_window import MainWindow
    from recist_app.ui.viewer.measure_tool import AutoClick
    from recist_app.workflows.measure import (
        LesionMeasurement,
        PredictedMeasurement,
        PropagatedPoint,
    )

__all__ = ["AutoMeasure", "geometry_middle", "lesion_source", "refined_scale"]

Point3 = tuple[float, float, float]

REFINE_DRAG_MM = 3.0
"""A press and release further apart than this refine the last result."""

_SCALE_LIMITS = (0.3, 4.0)
"""The tolerance scale a refining drag may reach (segment's band, times 1)."""


def refined_scale(
    scale: float, seed_ij: tuple[float, float], click: AutoClick, spacing_mm: Any
) -> float:
    """The tolerance scale after a refining drag: outward grows, inward shrinks.

    The scale is multiplied by how much farther from (or nearer to) the seed
    the drag ended than it began, in mm, within :data:`_SCALE_LIMITS`.

    >>> from recist_app.ui.viewer.measure_tool import AutoClick
    >>> drag = AutoClick(slice_index=0, press_ij=(10.0, 0.0), release_ij=(20.0, 0.0))
    >>> refined_scale(1.0, (0.0, 0.0), drag, (1.0, 1.0))
    2.0
    """
    column_mm, row_mm = float(spacing_mm[0]), float(spacing_mm[1])

    def distance(point: tuple[float, float]) -> float:
        return math.hypot(
            (point[0] - seed_ij[0]) * column_mm, (point[1] - seed_ij[1]) * row_mm
        )

    start = max(distance(click.press_ij), 1.0)
    end = max(distance(click.release_ij), 0.5)
    low, high = _SCALE_LIMITS
    return float(min(high, max(low, scale * end / start)))


def lesion_source(
    reading: Reading, lesion_id: str, visit: str
) -> tuple[str, MeasurementGeometry] | None:
    """Where to look ``lesion_id`` up from, for ``visit``: a visit and its lines.

    The baseline's lines when it has them (each follow-up is registered to the
    baseline, as the propagation was validated), else the last visit before
    ``visit`` where the lesion has lines.
    """
    visits = [t.visit for t in reading.timepoints]
    if visit not in visits:
        return None
    earlier = reading.timepoints[: visits.index(visit)]
    baseline = [t for t in earlier if t.is_baseline]
    for timepoint in (*baseline, *reversed(earlier)):
        geometry = lesion_geometry_at(reading, lesion_id, timepoint.visit)
        if geometry is not None:
            return timepoint.visit, geometry
    return None


def geometry_middle(geometry: MeasurementGeometry) -> Point3 | None:
    """The middle of a measurement's long axis (else short axis), LPS mm."""
    axis = geometry.long_axis or geometry.short_axis
    if axis is None:
        return None
    middle = np.mean([axis.start_lps_mm, axis.end_lps_mm], axis=0)
    return (float(middle[0]), float(middle[1]), float(middle[2]))


@dataclass(slots=True)
class _Request:
    """One click-to-measure run: where, for which lesion, with which template."""

    visit: str
    volume: ImageVolume
    seed_lps_mm: Point3
    seed_ij: tuple[float, float]
    tolerance_scale: float
    lesion_id: str  # the lesion chosen (selected) when it was asked, or ""
    template: LesionTemplate
    lymph_node: bool
    refine: bool = False
    accept: bool = False


@dataclass(slots=True)
class _Recorded:
    """The last result recorded: its outline is shown; a drag refines it."""

    request: _Request
    lesion_id: str
    stack_index: int


class AutoMeasure(QObject):
    """The Auto tool, the registrations and Enter at a follow-up, for one window.

    Signals
    -------
    registered(str, str)
        A pair of series (fixed, moving) is registered (anatomy links them).
    predictions_changed()
        Predicted positions arrived (the markers were redrawn).
    finished(str)
        A click-to-measure run ended: the lesion recorded, or ``""``.
    """

    registered = Signal(str, str)
    predictions_changed = Signal()
    finished = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.measure_runner = TaskRunner("auto-measure", self)
        self.registration_runner = TaskRunner("registration", self)
        self._task: Task[Any] | None = None
        self._recorded: _Recorded | None = None
        self.registrations: dict[tuple[str, str], SeriesRegistration] = {}
        self._registering: set[tuple[str, str]] = set()
        self.failed_pairs: dict[tuple[str, str], str] = {}
        self.predictions: dict[tuple[str, str, Point3], PropagatedPoint] = {}
        self._predicting: set[tuple[str, str, Point3]] = set()
        # registrations and predictions on their way: cancelled with the patient
        self._background: list[Task[Any]] = []
        self.last_message = ""
        window.document.undo_stack.indexChanged.connect(self._stack_moved)

    # ------------------------------------------------------------ status
    def _status(self, text: str, timeout_ms: int = 8000) -> None:
        self.last_message = text
        if shiboken6.isValid(self._window):
            self._window.statusBar().showMessage(text, timeout_ms)

    @property
    def busy(self) -> bool:
        """Whether a click-to-measure (or Enter) run is in progress."""
        return self._task is not None

    def _set_busy(self, task: Task[Any] | None) -> None:
        self._task = task
        self._window.slice_view.set_busy(task is not None)

    def cancel(self) -> bool:
        """Esc: drop the run in progress (its result is never recorded)."""
        task = self._task
        if task is None:
            return False
        task.cancel()
        self._set_busy(None)
        self._status("Auto measurement cancelled", 4000)
        self.finished.emit("")
        return True

    # ------------------------------------------------------------ the Auto tool
    @property
    def tolerance_scale(self) -> float | None:
        """The tolerance scale of the last result shown (1: as clicked)."""
        return self._recorded.request.tolerance_scale if self._recorded else None

    def clear_outline(self) -> None:
        """Forget the last result's outline (another visit, another edit)."""
        if self._recorded is not None:
            self._recorded = None
            self._window.slice_view.set_outlines({})

    def _stack_moved(self, index: int) -> None:
        recorded = self._recorded
        if recorded is not None and index != recorded.stack_index:
            self.clear_outline()

    def clicked(self, click: AutoClick) -> None:
        """The Auto tool's click (measure there) or drag (refine the last result)."""
        window = self._window
        document = window.document
        volume = window.slice_view.volume
        visit = document.visit
        if volume is None or not visit or document.locked:
            return
        if self._loaded(visit) is not volume:
            self._status("Auto: the images are still loading", 6000)
            return
        recorded = self._recorded
        spacing = (volume.column_spacing_mm, volume.row_spacing_mm)
        dragged = math.hypot(
            (click.release_ij[0] - click.press_ij[0]) * spacing[0],
            (click.release_ij[1] - click.press_ij[1]) * spacing[1],
        )
        if (
            dragged >= REFINE_DRAG_MM
            and recorded is not None
            and recorded.request.visit == visit
            and recorded.request.volume is volume
        ):
            before = recorded.request
            scale = refined_scale(
                before.tolerance_scale, before.seed_ij, click, spacing
            )
            request = dataclasses.replace(before, tolerance_scale=scale, refine=True)
            what = "Growing" if scale > before.tolerance_scale else "Shrinking"
            self._status(f"{what} the region (tolerance ×{scale:.2f})… Esc cancels")
        else:
            i, j = click.press_ij
            k = click.slice_index
            lps = index_to_lps_mm(volume, np.array([i, j, k], dtype=float))
            lesion_id = document.selected_lesion_id
            template = window.lesion_panel.template()
            request = _Request(
                visit=visit,
                volume=volume,
                seed_lps_mm=(float(lps[0]), float(lps[1]), float(lps[2])),
                seed_ij=(i, j),
                tolerance_scale=1.0,
                lesion_id=lesion_id,
                template=template,
                lymph_node=self._is_node(lesion_id, template),
            )
            self._status("Measuring… (Esc cancels)", 0)
        self._run(self.measure_runner, request)

    def _is_node(self, lesion_id: str, template: LesionTemplate) -> bool:
        if lesion_id:
            try:
                return self._window.document.reading.lesion(lesion_id).is_lymph_node
            except ReadingError:
                return False
        return template.is_lymph_node

    def _run(self, runner: TaskRunner, request: _Request) -> None:
        if self._task is not None:
            self._task.cancel()  # the newer click wins

        def job(_context: object) -> LesionMeasurement:
            return measure_at_point(
                request.volume,
                request.seed_lps_mm,
                lymph_node=request.lymph_node,
                tolerance_scale=request.tolerance_scale,
            )

        task: Task[LesionMeasurement] = runner.submit(
            job,
            done=lambda result: self._measured(task, request, result),
            failed=lambda message: self._failed(task, message),
            cancelled=lambda: self._cancelled(task),
            name="click-to-measure",
        )
        self._set_busy(task)

    def _cancelled(self, task: Task[Any]) -> None:
        if self._task is task:
            self._set_busy(None)

    def _failed(self, task: Task[Any], message: str) -> None:
        if self._task is not task:
            return
        self._set_busy(None)
        self._status(f"Auto: {message}", 15_000)
        self.finished.emit("")

    def _measured(
        self, task: Task[Any], request: _Request, result: LesionMeasurement
    ) -> None:
        if self._task is not task:
            return
        self._set_busy(None)
        self._record(request, result)

    def _record(self, request: _Request, result: LesionMeasurement) -> None:
        window = self._window
        document = window.document
        if document.visit != request.visit or document.locked:
            self._status("Auto measurement dropped: the visit changed", 6000)
            self.finished.emit("")
            return
        recorded = self._recorded
        stack = document.undo_stack
        if (
            request.refine
            and recorded is not None
            and stack.index() == recorded.stack_index
            and stack.canUndo()
        ):
            stack.undo()  # the refined result replaces it: still one undo step
        verb = "Accept" if request.accept else "Auto-measure"
        try:
            lesion_id = window.controller.record_auto(
                result,
                request.template,
                visit=request.visit,
                lesion_id=request.lesion_id,
                verb=verb,
            )
        except Exception as error:  # a drawing rule refused it: one line
            self._status(f"Auto: {describe_error(error)}", 15_000)
            self.finished.emit("")
            return
        self._recorded = _Recorded(
            request=request,
            lesion_id=lesion_id,
            stack_index=stack.index(),
        )
        view = window.slice_view
        view.set_outlines(result.outlines_ij)
        # Every viewport to the lesion: this visit's new lines (the slice of the
        # greatest long axis), the others' own lines of it.
        window.show_lesion(lesion_id)
        if view.slice_index != result.slice_index:
            view.set_slice_index(result.slice_index)
        self._status(
            f"{verb}: {lesion_id} {result.long_axis_mm:.1f} × "
            f"{result.short_axis_mm:.1f} mm (semi-automatic) on slice "
            f"{result.slice_index + 1}; drag outward / inward to grow / shrink it, "
            "drag a handle to correct it",
            15_000,
        )
        self.finished.emit(lesion_id)

    # ------------------------------------------------------------ registration
    def _loaded(self, visit: str) -> ImageVolume | None:
        window = self._window
        volume = window.volume_at(visit)
        loader = window.volume_loader
        if volume is None or (
            loader is not None and volume.series_instance_uid in loader.pending
        ):
            return None
        return volume

    def _baseline_visit(self) -> str | None:
        baseline = self._window.document.reading.baseline
        return baseline.visit if baseline is not None else None

    def refresh(self) -> None:
        """Register what the viewports show, then predict; all in the background.

        The follow-up read is registered to the baseline and to the visits the
        comparison viewports show; each pair once (cached, failures too).
        """
        window = self._window
        current = window.document.visit
        baseline = self._baseline_visit()
        if not current or baseline is None:
            return
        visits = [t.visit for t in window.document.reading.timepoints]
        others = [baseline, *(visit for _view, visit in window._axial_panes())]
        for other in dict.fromkeys(others):
            if other == current or other not in visits or current not in visits:
                continue
            earlier, later = sorted((other, current), key=visits.index)
            self._register(earlier, later)
        self._predict()

    def _register(self, fixed_visit: str, moving_visit: str) -> None:
        fixed, moving = self._loaded(fixed_visit), self._loaded(moving_visit)
        if fixed is None or moving is None:
            return
        key = (fixed.series_instance_uid, moving.series_instance_uid)
        if key[0] == key[1]:
            return
        known = self.registrations.get(key)
        if known is not None and known.fixed is fixed and known.moving is moving:
            return
        if key in self._registering or key in self.failed_pairs:
            return
        self._registering.add(key)
        label = f"{moving_visit.title()} to {fixed_visit.title()}"
        self._status(f"Registering {label}…", 0)

        def done(registration: SeriesRegistration) -> None:
            self._registering.discard(key)
            self.registrations[key] = registration
            self._status(f"{label} registered: scrolling linked by anatomy", 6000)
            self.registered.emit(*key)
            self._window._link_slices(self._window.slice_view)
            self._predict()

        def failed(message: str) -> None:
            self._registering.discard(key)
            self.failed_pairs[key] = message
            self._status(
                f"Registration of {label} failed ({message}); linked by table position",
                15_000,
            )

        self._submit_background(
            lambda _context: registration_for(fixed, moving),
            done=done,
            failed=failed,
            cancelled=lambda: self._registering.discard(key),
            name="registration",
        )

    def _registration(
        self, from_series: str, to_series: str
    ) -> tuple[SeriesRegistration, bool] | None:
        forward = self.registrations.get((from_series, to_series))
        if forward is not None:
            return forward, False
        backward = self.registrations.get((to_series, from_series))
        if backward is not None:
            return backward, True
        return None

    def map_between(
        self, point_lps_mm: Point3, from_series: str, to_series: str
    ) -> Point3 | None:
        """A point of one series in another, by their registration (if ready)."""
        if from_series == to_series:
            return point_lps_mm
        found = self._registration(from_series, to_series)
        if found is None:
            return None
        registration, inverse = found
        return map_point(registration, point_lps_mm, inverse=inverse)

    def _submit_background(self, job: Any, **reports: Any) -> None:
        """A registration or prediction job, remembered so a switch cancels it."""
        self._background = [t for t in self._background if not t.finished]
        self._background.append(self.registration_runner.submit(job, **reports))

    def forget_patient(self) -> None:
        """Another patient: drop everything that holds the previous one's images.

        The run in progress, the outline, the registrations and predictions (each
        registration holds both its volumes: ten switches kept gigabytes, issue
        23's memory benchmark) and the jobs still queued for them.
        """
        self.cancel()
        self.clear_outline()
        for task in self._background:
            task.cancel()
        self._background = []
        self.failed_pairs.clear()
        self.registrations.clear()
        self._registering.clear()
        self.predictions.clear()
        self._predicting.clear()
        forget_registrations()

    # ------------------------------------------------------------ predictions
    def _wanted_predictions(
        self,
    ) -> list[tuple[str, ImageVolume, ImageVolume, Point3, tuple[str, str, Point3]]]:
        """(lesion, source volume, current volume, point, key) still to predict."""
        window = self._window
        reading = window.document.reading
        current = window.document.visit
        volume = self._loaded(current) if current else None
        if volume is None or reading.timepoint(current).is_baseline:
            return []
        wanted = []
        for lesion in reading.lesions:
            if lesion.role not in (LesionRole.TARGET, LesionRole.NON_TARGET):
                continue
            if lesion_geometry_at(reading, lesion.lesion_id, current) is not None:
                continue
            source = lesion_source(reading, lesion.lesion_id, current)
            if source is None:
                continue
            source_visit, geometry = source
            source_volume = self._loaded(source_visit)
            point = geometry_middle(geometry)
            if (
                source_volume is None
                or point is None
                or geometry.series_instance_uid != source_volume.series_instance_uid
            ):
                continue
            key = (volume.series_instance_uid, lesion.lesion_id, point)
            wanted.append((lesion.lesion_id, source_volume, volume, point, key))
        return wanted

    def _missing_predictions(
        self,
    ) -> list[tuple[str, ImageVolume, ImageVolume, Point3, tuple[str, str, Point3]]]:
        missing = []
        for lesion_id, source, volume, point, key in self._wanted_predictions():
            if key in self.predictions or key in self._predicting:
                continue
            pair = (source.series_instance_uid, volume.series_instance_uid)
            if pair not in self.registrations:
                continue  # after the registration (refresh asks for it)
            missing.append((lesion_id, source, volume, point, key))
        return missing

    def _predict(self) -> None:
        jobs = self._missing_predictions()
        if not jobs:
            return
        for job in jobs:
            self._predicting.add(job[4])

        def predict(_context: object) -> list[tuple[Any, PropagatedPoint | None]]:
            found: list[tuple[Any, PropagatedPoint | None]] = []
            for _lesion, source, volume, point, key in jobs:
                try:
                    found.append((key, propagate_to(source, volume, point)))
                except Exception:  # one lesion not found: no marker for it
                    found.append((key, None))
            return found

        def done(found: list[tuple[Any, PropagatedPoint | None]]) -> None:
            for key, point in found:
                self._predicting.discard(key)
                if point is not None:
                    self.predictions[key] = point
            self._window._update_overlays()
            self.predictions_changed.emit()

        def forget() -> None:
            for job in jobs:
                self._predicting.discard(job[4])

        self._submit_background(
            predict,
            done=done,
            failed=lambda _message: forget(),
            cancelled=forget,
            name="predicted positions",
        )

    def predicted_point(self, lesion_id: str, visit: str) -> Point3 | None:
        """Where ``lesion_id`` is predicted at ``visit`` (``None``: not known)."""
        window = self._window
        if visit != window.document.visit:
            return None
        for wanted_id, _source, _volume, _point, key in self._wanted_predictions():
            if wanted_id == lesion_id and key in self.predictions:
                return self.predictions[key].point_lps_mm
        return None

    def markers(self, visit: str, volume: ImageVolume) -> tuple[PositionMarker, ...]:
        """``T02?`` where each lesion not yet measured at ``visit`` is predicted."""
        if visit != self._window.document.visit:
            return ()
        markers: list[PositionMarker] = []
        for lesion_id, _source, shown, _point, key in self._wanted_predictions():
            found = self.predictions.get(key)
            if found is None or shown is not volume:
                continue
            i, j, k = (float(v) for v in lps_mm_to_index(volume, found.point_lps_mm))
            markers.append(
                PositionMarker(
                    lesion_id=lesion_id,
                    slice_index=round(k),
                    point_ij=(i, j),
                    label=f"{lesion_id}?",
                )
            )
        return tuple(markers)

    # ------------------------------------------------------------ Enter
    def accept(self) -> bool:
        """Enter: measure the selected lesion where it is predicted at this visit.

        Returns whether Enter meant this (a follow-up read, a lesion selected
        that was measured before); the run itself is in the background.
        """
        window = self._window
        document = window.document
        visit, lesion_id = document.visit, document.selected_lesion_id
        if not visit or not lesion_id or document.locked:
            return False
        reading = document.reading
        if reading.timepoint(visit).is_baseline:
            return False
        source = lesion_source(reading, lesion_id, visit)
        if source is None:
            return False
        source_visit, geometry = source
        point = geometry_middle(geometry)
        fixed, moving = self._loaded(source_visit), self._loaded(visit)
        if point is None or fixed is None or moving is None:
            self._status(f"{lesion_id}: the images are still loading", 6000)
            return True
        if geometry.series_instance_uid != fixed.series_instance_uid:
            self._status(
                f"{lesion_id}: measured at {source_visit} on another series", 8000
            )
            return True
        key = (moving.series_instance_uid, lesion_id, point)
        predicted = self.predictions.get(key)
        template = window.lesion_panel.template()
        node = self._is_node(lesion_id, template)
        request = _Request(
            visit=visit,
            volume=moving,
            seed_lps_mm=point,
            seed_ij=(0.0, 0.0),
            tolerance_scale=1.0,
            lesion_id=lesion_id,
            template=template,
            lymph_node=node,
            accept=True,
        )
        if self._task is not None:
            self._task.cancel()

        def job(_context: object) -> PredictedMeasurement:
            return measure_predicted(
                fixed, moving, point, lymph_node=node, predicted=predicted
            )

        def done(result: PredictedMeasurement) -> None:
            if self._task is not task:
                return
            self._set_busy(None)
            found = result.point.point_lps_mm
            ijk = lps_mm_to_index(moving, found)
            request.seed_lps_mm = found
            request.seed_ij = (float(ijk[0]), float(ijk[1]))
            self._record(request, result.measurement)

        task: Task[PredictedMeasurement] = self.registration_runner.submit(
            job,
            done=done,
            failed=lambda message: self._failed(task, message),
            cancelled=lambda: self._cancelled(task),
            name="accept at follow-up",
        )
        self._set_busy(task)
        self._status(f"Finding {lesion_id} at {visit.title()}… (Esc cancels)", 0)
        return True
