"""Reports: results.json, Allure, the HTML report, timeline plots and failure diagnostics.
``python -m kubedrill.report`` is the command line (kubedrill/report/__main__.py)."""
