"""One module per user operation, for the command line and the workstation alike.

Each workflow takes a store and plain options, returns plain results and raises
project errors (:func:`~recist_app.workflows.errors.is_project_error`); none knows
Qt or argparse. ``recist_app.cli`` and ``recist_app.ui`` call these (and the pure
layers for display), so each use case is written once:

========================  ==========================================================
``images``                import a DICOM folder, load a series, a series thumbnail
``reading_import``        reading files into the database (geometry checked)
``sr_import``             DICOM SR measurement reports into readings
``export``                JSON, CSV, SDTM, SR and PDF exports, de-identified or not
``endpoints``             trial endpoints, clinical data import
``evaluate``              assess a reading file
``demo``                  demo patients, demo data, simulated trial
``worklist``              the reading worklist
``reading_session``       open, autosave, sign and amend one reading
``visits``                assign a patient's studies to visits
``database``              open the database, verify the audit trail
``vocabulary``            criteria names and the current user, shared by all
========================  ==========================================================

Import the module of the operation you need (``from recist_app.workflows.export
import export``): the package itself imports nothing heavy.
"""

from recist_app.workflows.errors import (
    NoClinicalDataError,
    VisitAssignmentError,
    WorkflowError,
    describe_error,
    is_project_error,
    project_error_types,
)

__all__ = [
    "NoClinicalDataError",
    "VisitAssignmentError",
    "WorkflowError",
    "describe_error",
    "is_project_error",
    "project_error_types",
]
