"""The reports in a real headless browser (Debian's chromium): a two-dataset collection fit (a forecast named
with `<` and `&`, and a small table) renders summary.html and one report.html per dataset; chromium loads
each page with a checking script, and the test reads back whether every image decoded, whether anything is wider
than the window, and what the page says (answer card, verdict, tables, escaped names).

Chromium is required: without it the test fails, unless ARCHPICK_SKIP_BROWSER=1 says to skip (CI installs it in
.ci/run)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

import archpick
from archpick.report.answer import answer
from archpick.report.summary import HEADERS, STANDING_WORDS
from archpick.report.views import ENDED

from conftest import DATA

pytestmark = pytest.mark.slow

SKIP_ENV = "ARCHPICK_SKIP_BROWSER"
COLLECTION = "two<&sets"
SERIES = "air<&line"

CHECK = """<script>
window.addEventListener('load', () => {
  const vw = window.innerWidth;
  const text = (e) => e ? e.innerText.trim() : null;
  const out = {
    title: document.title,
    viewport: vw,
    scrollWidth: document.documentElement.scrollWidth,
    images: [...document.images].map(i => ({alt: i.alt, loaded: i.complete && i.naturalWidth > 0,
                                            shown: Math.round(i.getBoundingClientRect().width)})),
    pastRight: [...document.body.querySelectorAll('*')].filter(e => !e.closest('.wide'))
      .filter(e => e.getBoundingClientRect().right > vw + 0.5).map(e => e.tagName + ': ' + text(e).slice(0, 60)),
    scrolledBoxes: [...document.querySelectorAll('.wide')].filter(w => w.scrollWidth > w.clientWidth + 1)
      .map(w => text(w).slice(0, 60)),
    headings: [...document.querySelectorAll('h1, h2')].map(text),
    answer: text(document.querySelector('.answer')),
    answerClass: document.querySelector('.answer') ? document.querySelector('.answer').className : null,
    verdict: text(document.querySelector('.verdict')),
    tables: [...document.querySelectorAll('table')].map(t => [...t.rows].map(r => ({
      cls: r.className, cells: [...r.cells].map(text)}))),
    links: [...document.links].map(a => a.href),
    body: document.body.innerText,
  };
  const pre = document.createElement('pre');
  pre.id = 'archpick-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


@dataclass(frozen=True)
class Row:
    """A table row as the browser lays it out: its class and its cells' rendered text."""

    cls: str
    cells: list[str]


@dataclass(frozen=True)
class Page:
    """What chromium saw on a page.

    Attributes:
        title: The document title.
        viewport: The window's inner width in CSS pixels.
        scroll_width: The document's scroll width (wider than the viewport: the page scrolls sideways).
        images: (alt text, decoded with a non-zero width, shown width) per image.
        past_right: Elements outside a scrolling table box whose right edge lies past the window.
        scrolled_boxes: Table boxes whose table is wider than the box (they scroll inside the page).
        headings: The h1 and h2 texts.
        answer: The answer card's text, or None.
        answer_class: The answer card's classes, or None.
        verdict: The verdict's text, or None.
        tables: Every table's rows.
        links: Every link's resolved address.
        body: The page's rendered text.
    """

    title: str
    viewport: int
    scroll_width: int
    images: list[tuple[str, bool, int]]
    past_right: list[str]
    scrolled_boxes: list[str]
    headings: list[str]
    answer: str | None
    answer_class: str | None
    verdict: str | None
    tables: list[list[Row]]
    links: list[str]
    body: str

    def table(self, first_header: str) -> list[Row]:
        """The first table whose first header cell is `first_header`."""
        return next(t for t in self.tables if t and t[0].cells[0] == first_header)


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found:
        return found
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"chromium is not installed and {SKIP_ENV}=1")
    pytest.fail(f"chromium is not installed: apt-get install chromium (.ci/run does), or set {SKIP_ENV}=1 to skip")


def browse(page: Path, width: int = 1280) -> Page:
    """Load `page` in headless chromium at `width` CSS pixels (a copy beside it with the checking script, so
    relative links resolve as in the page) and return what the script recorded."""
    probe = page.with_name(f".browser-check-{width}-{page.name}")
    source = page.read_text()
    probe.write_text(source.replace("</body>", CHECK + "</body>"))
    args = [
        _chromium(),
        "--headless",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={width},900",
        "--virtual-time-budget=10000",
        "--dump-dom",
        probe.as_uri(),
    ]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # chromium refuses to run as root inside its sandbox
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=90)
    finally:
        probe.unlink()
    found = re.search(r'<pre id="archpick-check">(.*?)</pre>', done.stdout, re.S)
    assert found, f"chromium recorded nothing (rc {done.returncode}): {done.stderr[-1500:]}"
    raw = json.loads(html.unescape(found.group(1)))
    return Page(
        raw["title"],
        raw["viewport"],
        raw["scrollWidth"],
        [(i["alt"], i["loaded"], i["shown"]) for i in raw["images"]],
        raw["pastRight"],
        raw["scrolledBoxes"],
        raw["headings"],
        raw["answer"],
        raw["answerClass"],
        raw["verdict"],
        [[Row(r["cls"], r["cells"]) for r in t] for t in raw["tables"]],
        raw["links"],
        raw["body"],
    )


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> Path:
    """A real collection fit under `two<&sets`: the shipped airline series (as `air<&line`) and iris as a CSV
    table (from scikit-learn's copy; a table fits fastest, and its linear model is solved in closed form)."""
    from sklearn.datasets import load_iris

    _chromium()  # fail (or skip) before spending a fit on it
    root = tmp_path_factory.mktemp("browser") / COLLECTION
    (root / SERIES).mkdir(parents=True)
    shutil.copy2(DATA / "airline" / "airline.csv", root / SERIES / "airline.csv")
    iris = load_iris(as_frame=True)
    frame = iris.frame.assign(species=[iris.target_names[i] for i in iris.frame.pop("target")])
    (root / "iris").mkdir()
    frame.to_csv(root / "iris" / "iris.csv", index=False)
    out = root.parent / "run"
    archpick.fit(root, "40s", max_trials=1, max_epochs=2, out=out)
    return out


def _assert_renders_cleanly(page: Page, images: int) -> None:
    """Every image decoded and is shown; nothing is wider than the window, and no table scrolls in its box."""
    assert len(page.images) == images, page.images
    assert all(loaded and shown > 100 for _, loaded, shown in page.images), page.images
    assert page.scroll_width <= page.viewport, (page.scroll_width, page.past_right)
    assert not page.past_right and not page.scrolled_boxes, (page.past_right, page.scrolled_boxes)


def _assert_report_says(page: Page, report: dict) -> None:
    """The answer card (with its tone), the verdict and the leaderboard, as the report's numbers say."""
    card = answer(report)
    assert card is not None and page.answer_class == f"answer {card.tone}"
    assert page.answer.startswith("Answer") and card.direction in page.answer and "Next:" in page.answer
    assert f"{card.value:.4g}" in page.answer
    assert page.verdict == report["verdict"].strip()
    assert page.headings[0] == f"archpick report: {report['dataset']}"
    board = page.table("rank")
    header, rows = board[0].cells, board[1:]
    assert header[:5] == [
        "rank",
        "trial",
        "validation loss" if report["race"]["direction"] == "min" else "validation accuracy",
        "ended",
        "exported",
    ]
    assert len(rows) == len(report["leaderboard"]) >= 2
    scores = [float(r.cells[2]) for r in rows]
    assert scores == sorted(scores, reverse=report["race"]["direction"] == "max")  # best first
    exported = [r for r in rows if r.cells[4] == "exported"]
    assert len(exported) == 1 and exported[0].cls == "exported"
    assert exported[0].cells[1] == report["final"]["trial"]
    assert all(r.cells[3] in ENDED.values() or r.cells[3] == "completed" for r in rows)
    assert "COMPLETED" not in page.body


def test_forecast_report_in_the_browser(collection: Path) -> None:
    report_dir = collection / SERIES
    report = json.loads((report_dir / "report.json").read_text())
    raw = (report_dir / "report.html").read_text()
    assert "<&" not in raw and "air&lt;&amp;line" in raw  # the name is escaped, never markup
    assert (report_dir / "report.md").read_text().startswith("# archpick report: air\\<\\&line\n")
    page = browse(report_dir / "report.html")
    _assert_renders_cleanly(page, images=len(report["plots"]))
    assert page.title == f"archpick: {SERIES}"
    _assert_report_says(page, report)
    assert "lower is better" in page.answer and "MASE" in page.answer
    future = page.table("month")  # the forecast after the end of the data, dated
    assert future[0].cells == ["month", "forecast of passengers"] and len(future) == 1 + 12
    assert [r.cells[0] for r in future[1:4]] == ["1961-01-01", "1961-02-01", "1961-03-01"]
    assert all(200 < float(r.cells[1]) < 1000 for r in future[1:])
    assert SERIES in page.table("fact")[1].cells[1]  # the path, as text
    narrow = browse(report_dir / "report.html", width=480)  # a phone: tables may scroll in their box, not the page
    assert narrow.scroll_width <= narrow.viewport and not narrow.past_right, narrow.past_right


def test_table_report_in_the_browser(collection: Path) -> None:
    report = json.loads((collection / "iris" / "report.json").read_text())
    page = browse(collection / "iris" / "report.html")
    _assert_renders_cleanly(page, images=len(report["plots"]))
    _assert_report_says(page, report)
    assert "higher is better" in page.answer
    assert "confusion matrix (test)" in {alt for alt, _, _ in page.images}
    ended = {r.cells[1].split("-")[0]: r.cells[3] for r in page.table("rank")[1:]}
    assert ended.get("linear", ENDED["solved"]) == ENDED["solved"]
    columns = page.table("column")
    assert [r.cells[0] for r in columns[1:]][-1] == "species" and columns[-1].cells[2] == "yes"


def test_summary_in_the_browser(collection: Path) -> None:
    summary = json.loads((collection / "summary.json").read_text())
    raw = (collection / "summary.html").read_text()
    assert "<&" not in raw
    page = browse(collection / "summary.html")
    _assert_renders_cleanly(page, images=1)
    assert page.headings[0] == f"archpick summary: {COLLECTION}" and page.title == page.headings[0]
    table = page.table("dataset")
    assert table[0].cells == HEADERS + ["report"]
    rows = {r.cells[0]: r for r in table[1:]}
    assert set(rows) == {SERIES, "iris"}
    for item in summary["datasets"]:
        cells = rows[item["dataset"]].cells
        lower = item["metric"] == "mase"
        assert cells[4] == ("MASE (lower is better)" if lower else "accuracy (higher is better)")
        assert cells[5].startswith(f"{item['test_metric']:.4g}") and cells[6].startswith(f"{item['baseline']:.4g}")
        assert cells[7] in STANDING_WORDS.values()
        beats = (item["test_metric"] <= item["baseline"]) if lower else (item["test_metric"] >= item["baseline"])
        assert (cells[7] != STANDING_WORDS["loses"]) == beats
        assert rows[item["dataset"]].cls == {v: k for k, v in STANDING_WORDS.items()}[cells[7]].replace(" ", "-")
    for raw_name in ("test_metric", "beats_baseline", "True", "False"):
        assert raw_name not in page.body
    reports = [unquote(urlparse(link).path) for link in page.links]
    assert sorted(Path(p).parent.name for p in reports) == sorted([SERIES, "iris"])
    assert all(Path(p).exists() and p.endswith("report.html") for p in reports)
    markdown = (collection / "summary.md").read_text()
    assert "plots/summary.png" in markdown
    # names from the data are escaped in Markdown too: `<&` would start an HTML tag and an entity
    assert markdown.startswith("# archpick summary: two\\<\\&sets") and "- **air\\<\\&line**:" in markdown
    assert "air<&line" not in markdown
