"""``bench report --html``: one self-contained page; opened in a real headless Chromium, it loads without console
errors, its tables hold the records' numbers, and a screenshot is not empty. Chromium missing means skip, unless
BENCH_REQUIRE_CHROMIUM=1 (CI), where it means failure."""

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.records import read_records
from bench.report import format_number
from bench.report_boards import protocol_text
from bench.report_html import page, write_page
from test_breakdowns import continuous_run, isolated_run
from test_report import board_records


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium (or another Chrome) on PATH; BENCH_REQUIRE_CHROMIUM=1 makes its absence a failure."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("BENCH_REQUIRE_CHROMIUM") == "1":
        pytest.fail("BENCH_REQUIRE_CHROMIUM=1 but chromium is not installed (apt-get install chromium)")
    pytest.skip("chromium not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Hand-written claims and runs, two with per-sample outputs, written as a page."""
    root = tmp_path_factory.mktemp("site")
    continuous_run(root / "runs" / "c")
    isolated_run(root / "runs" / "i")
    sources = [*board_records(), *read_records(root / "runs")]
    return write_page(sources, root / "html", intervals=200), sources


def headless(binary, tmp_path, *args, timeout=60):
    """Run headless Chromium on its own profile; stderr carries the page's console lines ("CONSOLE")."""
    command = [binary, "--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage",
               "--no-first-run", "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp_path / 'profile'}",
               *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


class Tables(HTMLParser):
    """The leaderboard tables of a DOM: {(dataset, split): [{data-column: cell text}]}."""

    def __init__(self):
        super().__init__()
        self.boards, self.key, self.row, self.column, self.text = {}, None, None, None, ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "leaderboard" in attrs.get("class", ""):
            self.key = (attrs["data-dataset"], attrs["data-split"])
            self.boards[self.key] = []
        elif tag == "tr" and self.key and "data-row" in attrs:
            self.row = {}
            self.boards[self.key].append(self.row)
        elif tag == "td" and self.row is not None:
            self.column, self.text = attrs.get("data-column"), ""

    def handle_data(self, data):
        if self.column:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "td" and self.column:
            self.row[self.column], self.column = self.text, None
        elif tag == "table":
            self.key, self.row = None, None


def tables_of(text: str) -> dict:
    parser = Tables()
    parser.feed(text)
    return parser.boards


def expected_cells(record) -> dict:
    """The record's figures as the page must print them (its decimals, else up to 2)."""
    side = "ours" if record.kind == "run" else "published"
    return {f"{m}_{side}": format_number(round(v, record.decimals.get(m, 2)), record.decimals.get(m))
            for m, v in record.metrics.items() if m in ("wer", "per_instance_top1", "per_instance_top5",
                                                         "per_class_top1", "per_class_top5")}


def check_numbers(boards: dict, sources) -> int:
    """Every figure of every record is in its board's row, printed as the record has it; returns how many."""
    checked = 0
    for record in sources:
        rows = boards[(record.dataset, record.split)]
        mine = [r for r in rows if r["model"] == record.model
                and (record.kind != "run" or r["protocol"] == protocol_text(record.protocol))]
        assert mine, f"{record.model} {record.tag} not in {record.dataset} {record.split}"
        for column, text in expected_cells(record).items():
            assert any(r.get(column) == text for r in mine), (record.model, column, text, mine)
            checked += 1
    return checked


def test_page_is_self_contained_and_holds_the_records_numbers(site):
    path, sources = site
    text = path.read_text()
    assert not re.search(r"<script|<link|<img|src=|@import|url\(|href=\"(?!#)", text)  # nothing fetched, no JS
    assert text.count("<svg") >= 3 + 4  # one plot per board; signer, length and class charts
    assert check_numbers(tables_of(text), sources) == 16  # 6 figures of claims, 10 of runs
    assert "Signer02" in text and ">60<" in text  # the per-signer breakdown: 3 errors in 5 words


def test_page_in_headless_chromium(chromium, site, tmp_path):
    path, sources = site
    dom = headless(chromium, tmp_path, "--dump-dom", path.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    boards = tables_of(dom.stdout)
    assert set(boards) == {("phoenix2014", "dev"), ("phoenix2014", "test"), ("wlasl2000", "test"),
                           ("synthetic_phoenix2014", "dev"), ("synthetic_wlasl", "test")}
    assert check_numbers(boards, sources) == 16
    assert [r["model"] for r in boards[("phoenix2014", "test")]] == ["corrnet", "vac"]  # ranked on WER
    shot = tmp_path / "page.png"
    result = headless(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1280,1600", path.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    assert [line for line in result.stderr.splitlines() if ":CONSOLE" in line] == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert int.from_bytes(data[16:20], "big") == 1280  # the PNG's width


# measures, in a copy of the page, every element outside a table scroller that ends right of the viewport
OVERFLOW_PROBE = ("<script>var o=[];document.querySelectorAll('body *').forEach(function(e){"
                  "var r=e.getBoundingClientRect();if(r.right>document.documentElement.clientWidth+1&&"
                  "!e.closest('.scroll'))o.push(e.tagName);});document.body.setAttribute('data-overflow',"
                  "o.length+':'+o.slice(0,5).join(','));</script></body>")


def test_page_fits_a_phone(chromium, site, tmp_path):
    """At 390 px only the wide tables scroll (inside their own box); nothing else is wider than the screen."""
    path, _ = site
    probe = path.parent / "probe.html"
    probe.write_text(path.read_text().replace("</body>", OVERFLOW_PROBE))
    dom = headless(chromium, tmp_path, "--window-size=390,1200", "--dump-dom", probe.as_uri())
    assert re.search(r'data-overflow="([^"]*)"', dom.stdout).group(1) == "0:"
    wide = headless(chromium, tmp_path, "--window-size=390,1200", "--dump-dom",
                    _with_wide_block(path, probe).as_uri())
    assert re.search(r'data-overflow="(\d+)', wide.stdout).group(1) != "0"  # the probe can fail


def _with_wide_block(path, probe):
    probe.write_text(path.read_text().replace("<main>", '<main><div style="width:900px">wide</div>')
                     .replace("</body>", OVERFLOW_PROBE))
    return probe


def test_chromium_reports_console_errors(chromium, tmp_path):
    """The check above can fail: a page that logs an error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><p>x</p><script>console.error('broken'); missing();</script>")
    result = headless(chromium, tmp_path, "--dump-dom", bad.as_uri())
    assert sum(":CONSOLE" in line for line in result.stderr.splitlines()) == 2


def test_cli_writes_the_page(tmp_path):
    continuous_run(tmp_path / "runs")
    out = CliRunner().invoke(app, ["report", str(tmp_path / "runs"), "--html", str(tmp_path / "site")])
    assert out.exit_code == 0, out.output
    text = (tmp_path / "site" / "index.html").read_text()
    assert 'data-column="wer_ours">40<' in text and "synthetic_phoenix2014 dev" in text
    assert page(read_records(tmp_path / "runs"), intervals=0).count("<table") == text.count("<table")
