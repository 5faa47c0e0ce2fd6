"""Reads the report page back as data: per chart, the texts drawn and the bars, by variant."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser

Key = tuple[str, str]  # (period, segment) of a switchable variant; ("", "") otherwise


@dataclass
class Chart:
    # class attribute of an SVG <text> ("label", "value", "tick") -> its strings, in order
    texts: dict[Key, dict[str, list[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    bars: dict[Key, int] = field(default_factory=lambda: defaultdict(int))
    tooltips: list[str] = field(default_factory=list)
    svgs: int = 0
    hidden: set[Key] = field(default_factory=set)
    row_outcomes: list[str] = field(default_factory=list)  # run-history table rows
    # Body rows of the card's tables, cell texts in order, by variant.
    rows: dict[Key, list[list[str]]] = field(default_factory=lambda: defaultdict(list))
    notes: list[str] = field(default_factory=list)  # <p class="empty"> texts


class PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, Chart] = {}
        self.sections: dict[str, Chart] = {}  # cards marked data-section, read the same way
        self.kpis: dict[str, list[str]] = defaultdict(list)
        self._chart: Chart | None = None
        self._variant: Key = ("", "")
        self._text_class: str | None = None
        self._in_title = False
        self._kpi: str | None = None
        self._depth = 0
        self._section_depth = -1
        self._in_body = self._in_cell = self._in_note = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self._depth += 1
        if tag == "section" and "data-chart" in a:
            self._chart = self.charts.setdefault(a["data-chart"], Chart())
            self._section_depth = self._depth
        elif tag == "section" and "data-section" in a:
            self._chart = self.sections.setdefault(a["data-section"], Chart())
            self._section_depth = self._depth
        elif tag == "div" and "data-kpi" in a:
            self._kpi = a["data-kpi"]
        elif self._chart is None:
            return
        elif tag == "div" and a.get("class") == "variant":
            self._variant = (a["data-period"], a["data-segment"])
            if "hidden" in a:
                self._chart.hidden.add(self._variant)
        elif tag == "svg":
            self._chart.svgs += 1
        elif tag in ("rect", "circle") and (a.get("class") == "bar" or tag == "circle"):
            self._chart.bars[self._variant] += 1
        elif tag == "text":
            self._text_class = a.get("class", "")
        elif tag == "title":
            self._in_title = True
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._chart.rows[self._variant].append([])
            if "data-outcome" in a:
                self._chart.row_outcomes.append(a["data-outcome"])
        elif tag == "td" and self._in_body:
            self._chart.rows[self._variant][-1].append("")
            self._in_cell = True
        elif tag == "p" and a.get("class") == "empty":
            self._in_note = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._depth == self._section_depth:
            self._chart, self._variant = None, ("", "")
        elif tag == "div" and self._kpi and self._chart is None:
            self._kpi = None
        elif tag == "div" and self._variant != ("", ""):
            self._variant = ("", "")
        elif tag == "text":
            self._text_class = None
        elif tag == "title":
            self._in_title = False
        elif tag == "tbody":
            self._in_body = False
        elif tag == "td":
            self._in_cell = False
        elif tag == "p":
            self._in_note = False
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._kpi is not None and data.strip():
            self.kpis[self._kpi].append(data.strip())
        if self._chart is None:
            return
        if self._in_cell:
            self._chart.rows[self._variant][-1][-1] += data
        elif self._in_note:
            self._chart.notes.append(data)
        elif self._in_title:
            self._chart.tooltips.append(data)
        elif self._text_class is not None:
            self._chart.texts[self._variant][self._text_class].append(data)


def read_page(html: str) -> PageReader:
    reader = PageReader()
    reader.feed(html)
    return reader
