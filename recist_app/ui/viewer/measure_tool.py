"""The line, bidirectional and viable-diameter tools as plain state machines (no Qt).

The view turns mouse events into pixel ``(i, j)`` points of the current slice and
feeds them here; the tool keeps the preview and, when a gesture ends, returns a
:class:`DrawnMeasurement` of plain coordinates. Perpendicularity is computed in
millimetre space, so non-square pixels still give a true perpendicular. The viable
tool draws one line like the line tool, marked ``viable``: mRECIST's long axis of
the arterially enhancing part of a target (docs/rules.md J1). The Auto tool draws
nothing itself: a click (or a refining drag) leaves as an :class:`AutoClick`, and
click-to-measure draws the lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "AutoClick",
    "AxisName",
    "DrawnMeasurement",
    "Handle",
    "MeasureTool",
    "MeasurementOverlay",
    "PointIJ",
    "PositionMarker",
    "Segment",
    "Tool",
]

PointIJ = tuple[float, float]
Segment = tuple[PointIJ, PointIJ]

# Shorter gestures are clicks, not measurements.
_MIN_LENGTH_MM = 1.0


class Tool(StrEnum):
    """What a left drag on the image does."""

    NAVIGATE = "navigate"
    LINE = "line"
    BIDIRECTIONAL = "bidirectional"
    VIABLE = "viable"
    AUTO = "auto"


class AxisName(StrEnum):
    """Which axis of a measurement a handle belongs to."""

    LONG = "long"
    SHORT = "short"
    VIABLE = "viable"


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasurementOverlay:
    """A measurement drawn on a slice, in pixel coordinates of that slice.

    ``viable_axis_ij`` is the mRECIST viable long axis; it comes as an overlay of
    its own (without long and short axis), as it may lie on another slice.
    """

    lesion_id: str
    slice_index: int
    long_axis_ij: Segment | None
    short_axis_ij: Segment | None
    label: str
    selected: bool = False
    hint: bool = False
    viable_axis_ij: Segment | None = None
    color: str | None = None
    """A colour of its own (``#rrggbb``): each reader's in the adjudication view."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Handle:
    """One end point of one axis of an overlay."""

    lesion_id: str
    axis: AxisName
    end: int  # 0 = start, 1 = end


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawnMeasurement:
    """A finished gesture: plain pixel coordinates on slice ``slice_index``.

    ``lesion_id`` is set when an existing measurement's handle was dragged, and
    ``None`` for a new drawing (the controller decides which lesion it measures).
    With ``viable``, ``long_axis_ij`` is the viable (arterially enhancing) long
    axis of a target (mRECIST J1) and ``short_axis_ij`` is ``None``.
    ``screen_px_per_mm`` is the view's zoom when it was drawn: a line a few
    screen pixels long is a jitter of the mouse, whatever the image's pixels.
    """

    slice_index: int
    long_axis_ij: Segment
    short_axis_ij: Segment | None
    lesion_id: str | None = None
    viable: bool = False
    screen_px_per_mm: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionMarker:
    """A predicted lesion position: a circled cross-hair and a label on a slice."""

    lesion_id: str
    slice_index: int
    point_ij: PointIJ
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoClick:
    """A press and release of the Auto tool on slice ``slice_index``, in pixels.

    A click has ``press_ij == release_ij`` (near enough); a drag refines the
    last click-to-measure result (outward grows it, inward shrinks it).
    """

    slice_index: int
    press_ij: PointIJ
    release_ij: PointIJ


@dataclass(slots=True)
class _Drag:
    kind: str  # "long", "short" or "edit"
    start: PointIJ
    current: PointIJ
    handle: Handle | None = None
    overlay: MeasurementOverlay | None = None


class MeasureTool:
    """Preview and result of the measurement gestures on one slice view."""

    def __init__(self) -> None:
        self.tool = Tool.BIDIRECTIONAL
        self.row_spacing_mm = 1.0
        self.column_spacing_mm = 1.0
        self._drag: _Drag | None = None
        # Bidirectional: the long axis waits here for its short axis.
        self._pending_long: Segment | None = None
        self._pending_slice = -1
        self._auto_click: AutoClick | None = None

    # ---------------------------------------------------------------- geometry
    def _to_mm(self, point: PointIJ) -> tuple[float, float]:
        return (point[0] * self.column_spacing_mm, point[1] * self.row_spacing_mm)

    def _to_ij(self, point_mm: tuple[float, float]) -> PointIJ:
        return (point_mm[0] / self.column_spacing_mm, point_mm[1] / self.row_spacing_mm)

    def length_mm(self, segment: Segment) -> float:
        """In-plane length of ``segment`` in millimetres."""
        (ax, ay), (bx, by) = (self._to_mm(p) for p in segment)
        return math.hypot(bx - ax, by - ay)

    def _perpendicular_mm(self, long_axis: Segment) -> tuple[float, float]:
        (ax, ay), (bx, by) = (self._to_mm(p) for p in long_axis)
        norm = math.hypot(bx - ax, by - ay)
        return (-(by - ay) / norm, (bx - ax) / norm)

    def constrain_short_axis(
        self, long_axis: Segment, anchor: PointIJ, target: PointIJ
    ) -> Segment:
        """Short axis from ``anchor`` towards ``target``, perpendicular in mm."""
        px, py = self._perpendicular_mm(long_axis)
        ax, ay = self._to_mm(anchor)
        tx, ty = self._to_mm(target)
        distance = (tx - ax) * px + (ty - ay) * py
        return (anchor, self._to_ij((ax + distance * px, ay + distance * py)))

    def refit_short_axis(
        self, old_long: Segment, new_long: Segment, short: Segment
    ) -> Segment:
        """Carry a short axis over to an edited long axis.

        It keeps where it crosses the long axis (as a fraction of its length) and
        how far it reaches on either side, and is perpendicular again.
        """
        (oax, oay), (obx, oby) = (self._to_mm(p) for p in old_long)
        old_length = math.hypot(obx - oax, oby - oay)
        ux, uy = (obx - oax) / old_length, (oby - oay) / old_length
        px, py = -uy, ux
        ends = [self._to_mm(p) for p in short]
        along = [((x - oax) * ux + (y - oay) * uy) / old_length for x, y in ends]
        across = [(x - oax) * px + (y - oay) * py for x, y in ends]
        fraction = sum(along) / 2
        (nax, nay), (nbx, nby) = (self._to_mm(p) for p in new_long)
        cx, cy = nax + fraction * (nbx - nax), nay + fraction * (nby - nay)
        npx, npy = self._perpendicular_mm(new_long)
        offset = sum(across) / 2
        first, second = (a - offset for a in across)
        return (
            self._to_ij((cx + first * npx, cy + first * npy)),
            self._to_ij((cx + second * npx, cy + second * npy)),
        )

    # ---------------------------------------------------------------- state
    @property
    def busy(self) -> bool:
        """Whether a gesture is in progress (a drag, or a long axis awaiting)."""
        return self._drag is not None or self._pending_long is not None

    @property
    def drawing_viable(self) -> bool:
        """Whether the gesture in progress draws or edits a viable long axis."""
        drag = self._drag
        if drag is None:
            return False
        if drag.kind == "edit":
            return drag.handle is not None and drag.handle.axis is AxisName.VIABLE
        return self.tool is Tool.VIABLE

    def cancel(self) -> None:
        """Drop any drawing in progress."""
        self._drag = None
        self._pending_long = None

    def preview(self, slice_index: int) -> tuple[Segment | None, Segment | None]:
        """Long and short axis to draw as a preview on ``slice_index``."""
        drag = self._drag
        long_axis = self._pending_long if self._pending_slice == slice_index else None
        short_axis: Segment | None = None
        if drag is None:
            return long_axis, None
        if drag.kind == "auto":
            return None, None
        if drag.kind == "long":
            long_axis = (drag.start, drag.current)
        elif drag.kind == "short" and long_axis is not None:
            short_axis = self._short_from_drag(long_axis, drag)
        elif drag.kind == "edit":
            edited = self._edited(drag)
            if edited is not None:
                long_axis, short_axis = edited.long_axis_ij, edited.short_axis_ij
        return long_axis, short_axis

    def take_auto_click(self) -> AutoClick | None:
        """The Auto tool's click or drag that just ended (once), if any."""
        click, self._auto_click = self._auto_click, None
        return click

    def auto_drag(self) -> Segment | None:
        """The Auto tool's drag in progress (press point, current point)."""
        drag = self._drag
        if drag is None or drag.kind != "auto":
            return None
        return (drag.start, drag.current)

    def _short_from_drag(self, long_axis: Segment, drag: _Drag) -> Segment | None:
        if self.length_mm(long_axis) == 0:
            return None
        return self.constrain_short_axis(long_axis, drag.start, drag.current)

    # ---------------------------------------------------------------- gestures
    def press(
        self,
        point: PointIJ,
        slice_index: int,
        *,
        handle: Handle | None = None,
        overlay: MeasurementOverlay | None = None,
    ) -> bool:
        """Start a gesture; returns whether the tool took the press."""
        if handle is not None and overlay is not None:
            self._drag = _Drag(
                kind="edit", start=point, current=point, handle=handle, overlay=overlay
            )
            return True
        if self.tool is Tool.NAVIGATE:
            return False
        if self.tool is Tool.AUTO:
            self._drag = _Drag(kind="auto", start=point, current=point)
            self._pending_long = None
            return True
        if self._pending_long is not None and self._pending_slice != slice_index:
            self._pending_long = None
        kind = "short" if self._pending_long is not None else "long"
        self._drag = _Drag(kind=kind, start=point, current=point)
        return True

    def move(self, point: PointIJ) -> None:
        """Follow the mouse during a gesture."""
        if self._drag is not None:
            self._drag.current = point

    def release(self, point: PointIJ, slice_index: int) -> DrawnMeasurement | None:
        """End a gesture; returns the measurement it made, if any.

        The Auto tool's gesture makes no measurement: :meth:`take_auto_click`
        hands it over.
        """
        drag = self._drag
        self._drag = None
        if drag is None:
            return None
        drag.current = point
        if drag.kind == "edit":
            return self._edited(drag)
        if drag.kind == "auto":
            self._auto_click = AutoClick(
                slice_index=slice_index, press_ij=drag.start, release_ij=point
            )
            return None
        if drag.kind == "long":
            segment = (drag.start, point)
            if self.length_mm(segment) < _MIN_LENGTH_MM:
                return None
            if self.tool in (Tool.LINE, Tool.VIABLE):
                return DrawnMeasurement(
                    slice_index=slice_index,
                    long_axis_ij=segment,
                    short_axis_ij=None,
                    viable=self.tool is Tool.VIABLE,
                )
            self._pending_long = segment
            self._pending_slice = slice_index
            return None
        long_axis = self._pending_long
        if long_axis is None:
            return None
        short_axis = self._short_from_drag(long_axis, drag)
        if short_axis is None or self.length_mm(short_axis) < _MIN_LENGTH_MM:
            return None
        self._pending_long = None
        return _ordered(slice_index, long_axis, short_axis, self, None)

    def _edited(self, drag: _Drag) -> DrawnMeasurement | None:
        overlay, handle = drag.overlay, drag.handle
        if overlay is None or handle is None:
            return None
        if handle.axis is AxisName.VIABLE:
            if overlay.viable_axis_ij is None:
                return None
            moved = _move_end(overlay.viable_axis_ij, handle.end, drag.current)
            if self.length_mm(moved) < _MIN_LENGTH_MM:
                return None
            return DrawnMeasurement(
                slice_index=overlay.slice_index,
                long_axis_ij=moved,
                short_axis_ij=None,
                lesion_id=overlay.lesion_id,
                viable=True,
            )
        long_axis, short_axis = overlay.long_axis_ij, overlay.short_axis_ij
        if handle.axis is AxisName.LONG and long_axis is not None:
            moved = _move_end(long_axis, handle.end, drag.current)
            if self.length_mm(moved) < _MIN_LENGTH_MM:
                return None
            if short_axis is not None:
                short_axis = self.refit_short_axis(long_axis, moved, short_axis)
            long_axis = moved
        elif handle.axis is AxisName.SHORT and short_axis is not None:
            fixed = short_axis[1 - handle.end]
            if long_axis is not None and self.length_mm(long_axis) > 0:
                _, moved_end = self.constrain_short_axis(long_axis, fixed, drag.current)
            else:
                moved_end = drag.current
            short_axis = _move_end(short_axis, handle.end, moved_end)
        if long_axis is None:
            if short_axis is None:
                return None
            long_axis, short_axis = short_axis, None
        return _ordered(
            overlay.slice_index, long_axis, short_axis, self, overlay.lesion_id
        )


def _move_end(segment: Segment, end: int, point: PointIJ) -> Segment:
    return (point, segment[1]) if end == 0 else (segment[0], point)


def _ordered(
    slice_index: int,
    long_axis: Segment,
    short_axis: Segment | None,
    tool: MeasureTool,
    lesion_id: str | None,
) -> DrawnMeasurement:
    # The long axis is by definition the longer one, whichever was drawn first.
    if short_axis is not None and tool.length_mm(short_axis) > tool.length_mm(
        long_axis
    ):
        long_axis, short_axis = short_axis, long_axis
    return DrawnMeasurement(
        slice_index=slice_index,
        long_axis_ij=long_axis,
        short_axis_ij=short_axis,
        lesion_id=lesion_id,
    )
