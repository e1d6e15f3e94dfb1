"""Trial endpoints from many patients' readings: BOR, ORR, DCR, CBR, DOR, PFS, OS.

Never Qt and never the exchange layer: callers parse files and pass domain
``Reading`` objects (docs/standards.md section 3 has the definitions).

Typical use::

    result = compute_trial_endpoints(readings, read_clinical_csv(path))
    write_endpoint_outputs(result, out_dir)

A view shows ``summary_table(result)`` / ``subjects_table(result)`` and calls the
``draw_*`` functions (or :data:`PLOTS`) with its own matplotlib ``Figure``.
Adverse events (``read_adverse_events_csv``) and biomarkers
(``read_biomarkers_csv``) join the analysis through ``compute_trial_endpoints``;
``build_adam`` derives the ADaM datasets from its result.
"""

from recist_app.endpoints.adam import (
    ADAM_DATASETS,
    AdamDataset,
    AdamVariable,
    build_adam,
)
from recist_app.endpoints.adverse_events import (
    ADVERSE_EVENT_COLUMNS,
    AdverseEvent,
    AeAction,
    SafetySummary,
    TermSummary,
    adverse_events_csv_text,
    check_adverse_events,
    is_treatment_emergent,
    parse_adverse_events_csv,
    read_adverse_events_csv,
    summarise_adverse_events,
)
from recist_app.endpoints.agreement import (
    AGREEMENT_KEYS,
    ReaderAgreement,
    ReaderPair,
    agreement_csv_text,
    cohen_kappa,
    pd_dates_agree,
    reader_agreement,
)
from recist_app.endpoints.biomarkers import (
    BiomarkerGroup,
    BiomarkerKind,
    BiomarkerResult,
    BiomarkerTable,
    HazardRatio,
    analyse_biomarkers,
    biomarkers_csv_text,
    parse_biomarkers_csv,
    read_biomarkers_csv,
)
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
    GRADE_COLOURS,
    PLOTS,
    draw_adverse_events,
    draw_forest,
    draw_kaplan_meier,
    draw_orr_by_biomarker,
    draw_os,
    draw_pfs,
    draw_spider,
    draw_swimmer,
    draw_ttp,
    draw_waterfall,
    plots_for,
)
from recist_app.endpoints.report import (
    agreement_table,
    new_figure,
    write_endpoint_outputs,
)
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
    TtpCensoring,
    VisitPoint,
    VisitPoints,
    derive_os,
    derive_pfs,
    derive_subject,
    derive_ttp,
    endpoint_response,
)
from recist_app.endpoints.tables import (
    ENDPOINTS_FORMAT,
    Table,
    biomarker_table,
    bor_table,
    endpoints_to_dict,
    risk_table,
    safety_table,
    subjects_table,
    summary_table,
)

__all__ = [
    "ADAM_DATASETS",
    "ADVERSE_EVENT_COLUMNS",
    "AGREEMENT_KEYS",
    "BOR_CATEGORIES",
    "BOR_COLOURS",
    "CLINICAL_COLUMNS",
    "CNSR_EVENT",
    "DAYS_PER_MONTH",
    "ENDPOINTS_FORMAT",
    "GRADE_COLOURS",
    "IRECIST_BOR_CATEGORIES",
    "PLOTS",
    "AdamDataset",
    "AdamVariable",
    "AdverseEvent",
    "AeAction",
    "BiomarkerGroup",
    "BiomarkerKind",
    "BiomarkerResult",
    "BiomarkerTable",
    "CbrDefinition",
    "ClinicalRecord",
    "EndpointError",
    "EndpointOptions",
    "HazardRatio",
    "KaplanMeierEstimate",
    "LandmarkEstimate",
    "OsCensoring",
    "PfsCensoring",
    "Population",
    "ProportionEstimate",
    "ReaderAgreement",
    "ReaderPair",
    "SafetySummary",
    "SimulatedTrial",
    "SubjectEndpoints",
    "SurvivalCi",
    "Table",
    "TermSummary",
    "TimeToEvent",
    "TrialEndpoints",
    "TtpCensoring",
    "VisitPoint",
    "VisitPoints",
    "adverse_events_csv_text",
    "agreement_csv_text",
    "agreement_table",
    "analyse_biomarkers",
    "biomarker_table",
    "biomarkers_csv_text",
    "bor_categories",
    "bor_table",
    "build_adam",
    "check_adverse_events",
    "clinical_csv_text",
    "clopper_pearson",
    "cohen_kappa",
    "compute_trial_endpoints",
    "derive_os",
    "derive_pfs",
    "derive_subject",
    "derive_ttp",
    "draw_adverse_events",
    "draw_forest",
    "draw_kaplan_meier",
    "draw_orr_by_biomarker",
    "draw_os",
    "draw_pfs",
    "draw_spider",
    "draw_swimmer",
    "draw_ttp",
    "draw_waterfall",
    "endpoint_response",
    "endpoints_to_dict",
    "is_treatment_emergent",
    "kaplan_meier",
    "new_figure",
    "parse_adverse_events_csv",
    "parse_biomarkers_csv",
    "parse_clinical_csv",
    "pd_dates_agree",
    "plots_for",
    "read_adverse_events_csv",
    "read_biomarkers_csv",
    "read_clinical_csv",
    "reader_agreement",
    "risk_table",
    "safety_table",
    "simulate_trial",
    "subjects_table",
    "summarise",
    "summarise_adverse_events",
    "summary_table",
    "write_clinical_csv",
    "write_endpoint_outputs",
]
