"""Files in and out: the reading file, the assessment, and the exports.

Exports (``export_readings``): reading + assessment JSON, per-visit and per-lesion
CSV, CDISC SDTM TU/TR/RS (CSV + SAS XPORT v5 + define list), DICOM SR TID 1500 per
visit (and its import back), a PDF reading report, all optionally de-identified;
``write_adam`` writes the ADaM datasets the endpoint engine derives.

The DICOM parts (``sr``, ``deidentify``: highdicom, pydicom) are imported on first
use of one of their names, and ``pdf_report`` imports matplotlib only when it draws,
so ``import recist_app.exchange`` stays fast for the command line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from recist_app.exchange.adam import (
    AnalysisDataset,
    AnalysisVariable,
    adam_csv_text,
    sas_date,
    write_adam,
)
from recist_app.exchange.assessment_file import (
    ASSESSMENT_FORMAT,
    VISIT_COLUMNS,
    assessment_json_text,
    assessment_set_json_text,
    visits_csv_text,
)
from recist_app.exchange.demo_reading import (
    DEMO_READER,
    reading_from_ground_truth,
    unread_reading_from_ground_truth,
)
from recist_app.exchange.errors import ExchangeError
from recist_app.exchange.export import (
    ExportFormat,
    ExportItem,
    ExportOptions,
    ExportReport,
    export_readings,
    index_images,
    write_export,
)
from recist_app.exchange.pdf_report import ReportSignature, write_pdf_report
from recist_app.exchange.reading_decoder import decode_reading_file
from recist_app.exchange.reading_file import (
    READING_FORMAT,
    DecodedReadingFile,
    parse_reading,
    read_reading_file,
    reading_to_dict,
    reading_to_json_text,
    write_reading_file,
    write_text_atomically,
)
from recist_app.exchange.sdtm import SdtmDatasets, build_sdtm, check_sdtm, write_sdtm
from recist_app.exchange.sign_off import ReadingFile, load_reading_file

if TYPE_CHECKING:
    from recist_app.exchange.deidentify import (
        Pseudonymizer,
        deidentify_dataset,
        deidentify_reading,
    )
    from recist_app.exchange.sr import (
        build_measurement_report,
        import_measurement_report,
        read_measurement_report,
    )

_LAZY = {
    "Pseudonymizer": "deidentify",
    "deidentify_dataset": "deidentify",
    "deidentify_reading": "deidentify",
    "build_measurement_report": "sr",
    "import_measurement_report": "sr",
    "read_measurement_report": "sr",
}

__all__ = [
    "ASSESSMENT_FORMAT",
    "DEMO_READER",
    "READING_FORMAT",
    "VISIT_COLUMNS",
    "AnalysisDataset",
    "AnalysisVariable",
    "DecodedReadingFile",
    "ExchangeError",
    "ExportFormat",
    "ExportItem",
    "ExportOptions",
    "ExportReport",
    "Pseudonymizer",
    "ReadingFile",
    "ReportSignature",
    "SdtmDatasets",
    "adam_csv_text",
    "assessment_json_text",
    "assessment_set_json_text",
    "build_measurement_report",
    "build_sdtm",
    "check_sdtm",
    "decode_reading_file",
    "deidentify_dataset",
    "deidentify_reading",
    "export_readings",
    "import_measurement_report",
    "index_images",
    "load_reading_file",
    "parse_reading",
    "read_measurement_report",
    "read_reading_file",
    "reading_from_ground_truth",
    "reading_to_dict",
    "reading_to_json_text",
    "sas_date",
    "unread_reading_from_ground_truth",
    "visits_csv_text",
    "write_adam",
    "write_export",
    "write_pdf_report",
    "write_reading_file",
    "write_sdtm",
    "write_text_atomically",
]


def __getattr__(name: str) -> object:
    """Import the DICOM names (highdicom, pydicom) on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
