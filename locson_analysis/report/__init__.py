"""The PGD report: its tables (:mod:`.tables`), data-driven text (:mod:`.text`), the chart
helper every notebook draws with (:mod:`.charts`), the notebook runner (:mod:`.runner`) and
``locson report`` (:mod:`.annual`).  The report itself is ``notebooks/annual_report.ipynb``."""
