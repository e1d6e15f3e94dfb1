"""Files in and out: the reading file, the assessment, and (later) exports."""

from recist_app.exchange.assessment_file import (
    ASSESSMENT_FORMAT,
    assessment_csv_text,
    assessment_json_text,
    assessment_to_dict,
)
from recist_app.exchange.errors import ExchangeError
from recist_app.exchange.reading_file import (
    READING_FORMAT,
    parse_reading,
    read_reading_file,
    reading_to_dict,
    reading_to_json_text,
    write_reading_file,
)

__all__ = [
    "ASSESSMENT_FORMAT",
    "READING_FORMAT",
    "ExchangeError",
    "assessment_csv_text",
    "assessment_json_text",
    "assessment_to_dict",
    "parse_reading",
    "read_reading_file",
    "reading_to_dict",
    "reading_to_json_text",
    "write_reading_file",
]
