"""The exported report: a page composed from the document (title, totals, diagram, charts, top layers, notes)."""

from netcost.gui.report.options import PAGE_SIZES, ReportOptions
from netcost.gui.report.report_page import ReportPage

__all__ = ["PAGE_SIZES", "ReportOptions", "ReportPage"]
