"""DICOM discovery and loading, volumes and geometry in mm, display helpers.

The imaging layer never imports Qt nor any other recist_app package; see
docs/architecture.md. Typical use::

    found = discover(folder, progress=report)
    volume = load_volume(found.volumes[0], on_middle_slice=show)
    length_mm = segment_length_mm(volume, start_ijk, end_ijk)
"""

from recist_app.imaging.discovery import (
    DiscoveryResult,
    PatientInfo,
    RejectedFile,
    SeriesInfo,
    SliceRef,
    StudyInfo,
    VolumeInfo,
    contrast_phase_hint,
    discover,
    group_volumes,
)
from recist_app.imaging.errors import (
    ImagingError,
    LoadCancelledError,
    PhantomError,
    SeriesError,
    SliceReadError,
)
from recist_app.imaging.geometry import (
    Axis,
    LesionAxes,
    affine_lps_mm,
    in_plane_length_mm,
    index_to_lps_mm,
    lesion_contour_ij,
    lps_mm_to_index,
    measure_lesion_axes,
    perpendicular_direction_ij,
    perpendicular_short_axis,
    segment_length_mm,
    slice_index_at,
)
from recist_app.imaging.headers import SliceHeader, read_slice_header
from recist_app.imaging.image_plane import ImagePlane
from recist_app.imaging.line_profile import AIR_HU, LineProfile, line_profile
from recist_app.imaging.loader import (
    MiddleSliceCallback,
    PreviewCallback,
    load_volume,
    read_file_frames,
)
from recist_app.imaging.phantom import (
    GROUND_TRUTH_NAME,
    LESIONS,
    LesionSpec,
    LesionTruth,
    PhantomSeries,
    SeriesGeometry,
    write_demo_data,
    write_phantom_series,
)
from recist_app.imaging.progress import CancelCheck, CancelToken, ProgressCallback
from recist_app.imaging.reslice import (
    Plane,
    SliceImage,
    extract_slice,
    plane_axis,
    plane_slice_count,
)
from recist_app.imaging.thumbnails import THUMBNAIL_SIZE_PX, thumbnail_pixels
from recist_app.imaging.volume import ImageVolume
from recist_app.imaging.windowing import (
    WINDOW_PRESETS,
    WindowPreset,
    apply_window,
    series_window_presets,
    window_lookup_table,
    window_table_parts,
)

__all__ = [
    "AIR_HU",
    "GROUND_TRUTH_NAME",
    "LESIONS",
    "THUMBNAIL_SIZE_PX",
    "WINDOW_PRESETS",
    "Axis",
    "CancelCheck",
    "CancelToken",
    "DiscoveryResult",
    "ImagePlane",
    "ImageVolume",
    "ImagingError",
    "LesionAxes",
    "LesionSpec",
    "LesionTruth",
    "LineProfile",
    "LoadCancelledError",
    "MiddleSliceCallback",
    "PatientInfo",
    "PhantomError",
    "PhantomSeries",
    "Plane",
    "PreviewCallback",
    "ProgressCallback",
    "RejectedFile",
    "SeriesError",
    "SeriesGeometry",
    "SeriesInfo",
    "SliceHeader",
    "SliceImage",
    "SliceReadError",
    "SliceRef",
    "StudyInfo",
    "VolumeInfo",
    "WindowPreset",
    "affine_lps_mm",
    "apply_window",
    "contrast_phase_hint",
    "discover",
    "extract_slice",
    "group_volumes",
    "in_plane_length_mm",
    "index_to_lps_mm",
    "lesion_contour_ij",
    "line_profile",
    "load_volume",
    "lps_mm_to_index",
    "measure_lesion_axes",
    "perpendicular_direction_ij",
    "perpendicular_short_axis",
    "plane_axis",
    "plane_slice_count",
    "read_file_frames",
    "read_slice_header",
    "segment_length_mm",
    "series_window_presets",
    "slice_index_at",
    "thumbnail_pixels",
    "window_lookup_table",
    "window_table_parts",
    "write_demo_data",
    "write_phantom_series",
]
