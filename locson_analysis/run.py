"""Kept for callers of the old module (``warn.py``, tests): the runner is in
:mod:`locson_analysis.report.runner`, ``locson report`` in :mod:`locson_analysis.report.annual`."""

from .report.annual import (  # noqa: F401
    REPORT_NOTEBOOK,
    ReportPaths,
    report_dir,
    report_school,
    report_stem,
    run_all,
    run_report,
)
from .report.runner import (  # noqa: F401
    ReportStepError,
    execute_notebook,
    export_html,
    run_notebook,
)
