"""Reading the HTML reports as a browser and a screen reader would: headless Chromium (run
from its command line, as a person would open the file), axe-core in that same browser, and
the page's tables and charts as parsed HTML."""

import html
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from warehouse.project import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
# Installed from tools/axe/package-lock.json by `make axe` (which `make test` runs).
AXE = PROJECT_ROOT / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# Appended to a copy of the page: opens every <details> (so that the tables of figures are
# checked too, not only what shows at first), runs axe on the whole document and writes what
# it found into the page, where Chromium's --dump-dom prints it once the page has settled.
AXE_RUNNER = """<script src="axe.min.js"></script><script>
document.querySelectorAll("details").forEach(function (d) { d.open = true; });
function axeDone(found) {
  var out = document.createElement("pre");
  out.id = "axe-results";
  out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
}
axe.run(document, {resultTypes: ["violations"]}).then(function (results) {
  axeDone(results.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.map(function (n) { return n.target.join(" "); })};
  }));
}).catch(function (error) { axeDone({error: String(error)}); });
</script>"""


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def render(page: Path, screenshot: Path) -> str:
    """Chromium's log of loading `page` (console messages included) after a screenshot."""
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.unlink(missing_ok=True)
    done = chromium(
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1000,2400",
        f"--screenshot={screenshot}",
        page.as_uri(),
    )
    return done.stderr


def console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def axe_violations(page: Path, work: Path) -> list[dict]:
    """axe-core's violations on `page` in headless Chromium: id, impact, help, targets."""
    assert AXE.is_file(), f"{AXE} is missing: run `make axe` (npm ci in tools/axe)"
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(AXE, work / "axe.min.js")
    checked = work / page.name
    text = page.read_text(encoding="utf-8")
    assert text.count("</body>") == 1, page
    checked.write_text(text.replace("</body>", AXE_RUNNER + "</body>"), encoding="utf-8")
    dom = chromium("--virtual-time-budget=30000", "--dump-dom", checked.as_uri()).stdout
    found = re.search(r'<pre id="axe-results">(.*?)</pre>', dom, re.S)
    assert found is not None, f"axe wrote no result into {page.name}"
    results = json.loads(html.unescape(found.group(1)))
    assert isinstance(results, list), results
    return results


@dataclass
class Svg:
    attrs: dict[str, str]
    texts: dict[str, str] = field(default_factory=dict)  # id of <title>/<desc> -> its text
    bars: int = 0


@dataclass
class Page:
    """What the tests read of a report: its title, tables (by id) and charts."""

    title: str = ""
    h1: str = ""
    tables: dict[str, list[list[str]]] = field(default_factory=dict)
    svgs: list[Svg] = field(default_factory=list)

    def rows(self, table: str) -> dict[str, list[str]]:
        """The table's body rows by their row heading (the first cell)."""
        return {row[0]: row[1:] for row in self.tables[table][1:]}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page()
        self._text: list[str] | None = None
        self._into = ""
        self._table = ""
        self._row: list[str] = []
        self._in_svg = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k: v or "" for k, v in attrs}
        if tag == "svg":
            self.page.svgs.append(Svg(named))
            self._in_svg = True
        elif tag == "rect" and "bar" in named.get("class", "").split():
            self.page.svgs[-1].bars += 1
        elif tag == "table":
            self._table = named.get("id", "")
            self.page.tables[self._table] = []
        elif tag == "tr":
            self._row = []
        if tag in ("title", "desc", "h1", "th", "td"):
            self._text, self._into = [], named.get("id", "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("title", "desc", "h1", "th", "td") and self._text is not None:
            text = " ".join("".join(self._text).split())
            if tag in ("th", "td"):
                self._row.append(text)
            elif tag == "h1":
                self.page.h1 = text
            elif self._in_svg:
                self.page.svgs[-1].texts[self._into] = text
            else:
                self.page.title = text
            self._text = None
        elif tag == "tr" and self._table:
            self.page.tables[self._table].append(self._row)
        elif tag == "table":
            self._table = ""
        elif tag == "svg":
            self._in_svg = False

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def read_page(path: Path) -> Page:
    reader = _Reader()
    reader.feed(path.read_text(encoding="utf-8"))
    return reader.page


def number(cell: str) -> int:
    """A count as the reports print it (`1,234`)."""
    return int(cell.replace(",", ""))
