"""A static report page: traffic, top IPs and devices, status codes, rejects and ETL runs.

`write_report_page(settings, out)` reads the tables with PyIceberg through the same catalog
settings as the ETL (so it works on every runtime, with no JVM) and writes one HTML file
that fetches nothing when opened.
"""

from report_page.render import CHARTS, write_report_page

__all__ = ["CHARTS", "write_report_page"]
