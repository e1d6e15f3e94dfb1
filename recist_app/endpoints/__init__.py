"""Trial endpoints from many patients' readings: BOR, ORR, DCR, CBR, DOR, PFS, OS.

Never Qt and never the exchange layer: callers parse files and pass domain
``Reading`` objects (docs/standards.md section 3 has the definitions).

Typical use::

    result = compute_trial_endpoints(readings, read_clinical_csv(path))
    write_endpoint_outputs(result, out_dir)

A view shows ``summary_table(result)`` / ``subjects_table(result)`` and calls the
``draw_*`` functions (or :data:`PLOTS`) with its own matplotlib ``Figure``.
"""

from recist_app.endpoints.clinical import (
    CLINICAL_COLUMNS,
    ClinicalRecord,
    clinical_csv_text,
    parse_clinical_csv,
    read_clinical_csv,
    write_clinical_csv,
)
from recist_app.endpoints.errors import EndpointError
from recist_app.endpoints.options import (
    DAYS_PER_MONTH,
    CbrDefinition,
    EndpointOptions,
    Population,
    SurvivalCi,
)
from recist_app.endpoints.plots import (
    BOR_COLOURS,
    PLOTS,
    draw_kaplan_meier,
    draw_os,
    draw_pfs,
    draw_spider,
    draw_swimmer,
    draw_waterfall,
)
from recist_app.endpoints.report import new_figure, write_endpoint_outputs
from recist_app.endpoints.simulation import SimulatedTrial, simulate_trial
from recist_app.endpoints.statistics import (
    KaplanMeierEstimate,
    LandmarkEstimate,
    ProportionEstimate,
    clopper_pearson,
    kaplan_meier,
)
from recist_app.endpoints.study import (
    BOR_CATEGORIES,
    IRECIST_BOR_CATEGORIES,
    TrialEndpoints,
    bor_categories,
    compute_trial_endpoints,
    summarise,
)
from recist_app.endpoints.subject import (
    CNSR_EVENT,
    OsCensoring,
    PfsCensoring,
    SubjectEndpoints,
    TimeToEvent,
    VisitPoint,
    derive_os,
    derive_pfs,
    derive_subject,
    endpoint_response,
)
from recist_app.endpoints.tables import (
    ENDPOINTS_FORMAT,
    Table,
    bor_table,
    endpoints_to_dict,
    risk_table,
    subjects_table,
    summary_table,
)

__all__ = [
    "BOR_CATEGORIES",
    "BOR_COLOURS",
    "CLINICAL_COLUMNS",
    "CNSR_EVENT",
    "DAYS_PER_MONTH",
    "ENDPOINTS_FORMAT",
    "IRECIST_BOR_CATEGORIES",
    "PLOTS",
    "CbrDefinition",
    "ClinicalRecord",
    "EndpointError",
    "EndpointOptions",
    "KaplanMeierEstimate",
    "LandmarkEstimate",
    "OsCensoring",
    "PfsCensoring",
    "Population",
    "ProportionEstimate",
    "SimulatedTrial",
    "SubjectEndpoints",
    "SurvivalCi",
    "Table",
    "TimeToEvent",
    "TrialEndpoints",
    "VisitPoint",
    "bor_categories",
    "bor_table",
    "clinical_csv_text",
    "clopper_pearson",
    "compute_trial_endpoints",
    "derive_os",
    "derive_pfs",
    "derive_subject",
    "draw_kaplan_meier",
    "draw_os",
    "draw_pfs",
    "draw_spider",
    "draw_swimmer",
    "draw_waterfall",
    "endpoint_response",
    "endpoints_to_dict",
    "kaplan_meier",
    "new_figure",
    "parse_clinical_csv",
    "read_clinical_csv",
    "risk_table",
    "simulate_trial",
    "subjects_table",
    "summarise",
    "summary_table",
    "write_clinical_csv",
    "write_endpoint_outputs",
]
