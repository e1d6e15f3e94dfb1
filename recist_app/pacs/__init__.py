"""The PACS: find, retrieve and store over DICOMweb and DIMSE.

A layer beside ``exchange`` and ``endpoints``: it may use the imaging, store and
recist types but never Qt, and the app and the command line reach it only
through :mod:`recist_app.workflows.pacs`. Servers come from the settings file or
a URL (:mod:`~recist_app.pacs.settings`); :func:`connect` gives the client of a
server's protocol — ``dicomweb-client`` for QIDO-RS, WADO-RS and STOW-RS,
``pynetdicom`` for C-ECHO, C-FIND, C-GET and C-STORE (each imported when first
needed); :func:`download_series` retrieves a series into a download folder,
resumably. Every failure is a :class:`PacsError`: one line naming the server and
the cause.
"""

from recist_app.pacs.client import InstanceSink, PacsClient, connect
from recist_app.pacs.errors import (
    PacsAuthenticationError,
    PacsConnectionError,
    PacsError,
    PacsNotFoundError,
    PacsQueryError,
    PacsRefusedError,
    PacsResponseError,
    PacsSettingsError,
)
from recist_app.pacs.model import (
    NON_IMAGE_MODALITIES,
    EchoOutcome,
    InstanceMatch,
    RefusedInstance,
    SeriesMatch,
    StoredInstance,
    StoreOutcome,
    StudyMatch,
    StudyQuery,
    dicom_date,
    parse_date_range,
)
from recist_app.pacs.retrieval import (
    SeriesDownload,
    SeriesFolder,
    download_series,
    safe_name,
    series_folder,
)
from recist_app.pacs.sending import SentFile, send_files
from recist_app.pacs.settings import (
    DEFAULT_CALLING_AE_TITLE,
    DEFAULT_TIMEOUT_S,
    PacsProtocol,
    PacsServer,
    PacsSettings,
    default_settings_path,
    load_settings,
    parse_server_url,
)

__all__ = [
    "DEFAULT_CALLING_AE_TITLE",
    "DEFAULT_TIMEOUT_S",
    "NON_IMAGE_MODALITIES",
    "EchoOutcome",
    "InstanceMatch",
    "InstanceSink",
    "PacsAuthenticationError",
    "PacsClient",
    "PacsConnectionError",
    "PacsError",
    "PacsNotFoundError",
    "PacsProtocol",
    "PacsQueryError",
    "PacsRefusedError",
    "PacsResponseError",
    "PacsServer",
    "PacsSettings",
    "PacsSettingsError",
    "RefusedInstance",
    "SentFile",
    "SeriesDownload",
    "SeriesFolder",
    "SeriesMatch",
    "StoreOutcome",
    "StoredInstance",
    "StudyMatch",
    "StudyQuery",
    "connect",
    "default_settings_path",
    "dicom_date",
    "download_series",
    "load_settings",
    "parse_date_range",
    "parse_server_url",
    "safe_name",
    "send_files",
    "series_folder",
]
