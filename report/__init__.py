"""The run report's page: charts (plotly figures from a report document) and the self-contained HTML."""

from report.page import render_page

__all__ = ["render_page"]
