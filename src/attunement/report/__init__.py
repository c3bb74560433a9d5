"""The run report: one self-contained HTML page per run folder (``report.html``).

``write_report(run_dir)`` reads a run folder and writes the page; ``render_report`` is the pure
function behind it (conversations, summary, config -> HTML string). See docs/report.md.
"""

from attunement.report.html import render_report
from attunement.report.write import REPORT_FILE, ReportData, load_report_data, write_report

__all__ = ["REPORT_FILE", "ReportData", "load_report_data", "render_report", "write_report"]
