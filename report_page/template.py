"""The page around the charts: one HTML document with its CSS and a few lines of script.

Kept as a Python string, not an .html file, so it ships inside the package (the images
install with `pip install .`, whose package data is *.toml only) — no loader, no path logic.
The Content-Security-Policy forbids every fetch: the page can only show what it carries.
It allows exactly one stylesheet and one script, named by their SHA-256: a `<script>` or
an `onerror=` smuggled in through a logged path, referrer or User-Agent would not run even
if it escaped escaping (docs/report-page.md). The script only switches between
pre-rendered periods/segments; without it the latest period is shown.
"""

from __future__ import annotations

import base64
import hashlib
from string import Template

STYLE = """
:root {
  --fg: #1f2933; --muted: #616e7c; --line: #e4e7eb; --bg: #f5f7fa; --card: #ffffff;
  --accent: #3b6fb6; --ok: #2f9e44; --bad: #d64545; --idle: #9aa5b1;
  font-family: "DejaVu Sans", "Liberation Sans", system-ui, sans-serif;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font-size: 14px; }
header { padding: 20px 28px 8px; }
h1 { margin: 0 0 4px; font-size: 22px; }
.meta { color: var(--muted); margin: 0; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; padding: 12px 28px 4px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
       padding: 10px 16px; min-width: 170px; }
.kpi b { display: block; font-size: 20px; margin-top: 2px; }
.kpi span { color: var(--muted); font-size: 12px; }
main { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 16px;
       padding: 16px 28px 28px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
        padding: 14px 16px; grid-column: span 3; }
.card.wide { grid-column: 1 / -1; }
.card.third { grid-column: span 2; }
.card h2 { font-size: 16px; margin: 0; }
.card .sub { color: var(--muted); margin: 2px 0 8px; font-size: 12px; }
.controls { display: flex; gap: 8px; margin: 4px 0 8px; }
.controls label { color: var(--muted); font-size: 12px; }
svg.chart { width: 100%; height: auto; display: block; }
svg .grid { stroke: var(--line); }
svg .tick { fill: var(--muted); font-size: 11px; }
svg .label { fill: var(--fg); font-size: 12px; }
svg .value { fill: var(--fg); font-size: 11px; font-weight: 600; }
svg .bar:hover { opacity: .8; }
.empty { color: var(--muted); font-style: italic; }
table.runs, table.data { width: 100%; border-collapse: collapse; font-size: 12px;
                         margin-top: 10px; }
table.runs th, table.runs td, table.data th, table.data td {
  padding: 4px 6px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
table.runs td.n, table.data td.n, table.data th.n {
  text-align: right; font-variant-numeric: tabular-nums; }
table.runs td.n, table.runs td.t, table.data td.n { white-space: nowrap; }
table.data td { overflow-wrap: anywhere; }
.pill { border-radius: 9px; padding: 1px 8px; color: #fff; font-size: 11px; white-space: nowrap; }
.pill.succeeded { background: var(--ok); } .pill.failed { background: var(--bad); }
.pill.nothing-to-do { background: var(--idle); } .pill.partial { background: #e8a317; }
footer { color: var(--muted); padding: 0 28px 24px; font-size: 12px; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } .card { grid-column: 1 / -1; } }
"""

SCRIPT = """
// Each card with selectors shows the one pre-rendered variant matching all its <select>s.
document.querySelectorAll("[data-switch]").forEach(function (card) {
  var selects = card.querySelectorAll("select");
  function show() {
    card.querySelectorAll(".variant").forEach(function (variant) {
      var match = true;
      selects.forEach(function (s) { if (variant.dataset[s.name] !== s.value) match = false; });
      variant.hidden = !match;
    });
  }
  selects.forEach(function (s) { s.addEventListener("change", show); });
  show();
});
"""


def csp_source(text: str) -> str:
    """The CSP hash source of an inline element's text: 'sha256-<base64 digest>'."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {csp_source(STYLE)}; script-src {csp_source(SCRIPT)}"
)

# STYLE and SCRIPT are substituted verbatim (render.py), so the hashes match what the
# browser hashes: the text between the tags.
PAGE = Template(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="$csp">
<title>$title</title>
<style>$style</style>
</head>
<body>
<header>
<h1>$title</h1>
<p class="meta">$meta</p>
</header>
<section class="kpis">$kpis</section>
<main>
$sections
</main>
<footer>$footer</footer>
<script>$script</script>
</body>
</html>
"""
)
