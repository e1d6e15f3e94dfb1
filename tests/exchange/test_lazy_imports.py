"""The command line starts fast: exchange loads highdicom and matplotlib on use."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(statement: str) -> set[str]:
    code = (
        f"import sys; {statement}; "
        "print(' '.join(m for m in ('highdicom', 'matplotlib', 'pydicom') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_importing_exchange_loads_no_dicom_or_plotting_library() -> None:
    assert _loaded_after("import recist_app.exchange, recist_app.cli") == set()


def test_export_module_loads_no_dicom_or_plotting_library() -> None:
    assert _loaded_after("from recist_app.exchange import export_readings") == set()


def test_a_lazy_name_imports_its_module_on_first_use() -> None:
    assert _loaded_after("from recist_app.exchange import read_measurement_report") == {
        "highdicom",
        "pydicom",
    }
