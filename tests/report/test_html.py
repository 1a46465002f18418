"""The HTML report: self-contained, renders in headless Chromium, and its charts drew."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from nurture.report.metrics import compute
from nurture.report.records import Report
from nurture.report.render_html import render

from .conftest import ANCHOR, PERIOD, Demo

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHARTS = ("chart-reply-times", "chart-within-window", "chart-lapsed", "chart-owed")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "report.png"


def chromium() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is missing on CI (Debian package: chromium)")
    pytest.skip("chromium is not installed")


def run_chromium(tmp: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp / 'profile'}",
            "--window-size=1200,2400",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the de-filtered rows of an 8-bit RGB/RGBA PNG (stdlib only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


@pytest.fixture(scope="module")
def report(demo: Demo) -> Report:
    return compute(demo.inputs, ANCHOR, PERIOD)


@pytest.fixture(scope="module")
def page(report: Report, demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render(report, demo.inputs.rules.work.zone), encoding="utf-8")
    return path


def test_the_page_is_self_contained(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert "default-src 'none'" in html  # the browser may fetch nothing
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert html.count("<script") == 1 and "<script src" not in html
    assert "prefers-color-scheme: dark" in html
    assert "never shows message text" in html


def test_chromium_draws_every_chart(page: Path, tmp_path: Path) -> None:
    done = run_chromium(tmp_path, page.as_uri(), "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    for chart in CHARTS:
        match = re.search(rf'<svg id="{chart}".*?</svg>', dom, re.S)
        assert match, chart
        marks = re.findall(r'<(rect|path|circle) class="datum', match.group(0))
        assert marks, f"{chart} has no data elements"
    rows = re.search(r'<table class="sortable" id="contacts">.*?</table>', dom, re.S)
    assert rows and rows.group(0).count("<tr>") > 10


def test_chromium_screenshot_is_not_blank(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = run_chromium(tmp_path, page.as_uri(), f"--screenshot={shot}")
    assert shot.exists(), done.stderr[-2000:]
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1200, 2400)
    top = rows[: height // 3]
    colours = {row[x : x + 3] for row in top[::7] for x in range(0, len(row), 3 * 11)}
    assert len(colours) > 20  # text, tiles and the charts' bars, not one flat colour
    if os.environ.get("NURTURE_UPDATE_SCREENSHOT") == "1":  # refresh the README's picture
        DOCS.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS)


@pytest.mark.parametrize("column", ["staleness", "since"])
def test_the_contact_table_sorts(page: Path, tmp_path: Path, column: str) -> None:
    done = run_chromium(tmp_path, page.as_uri() + f"#sort={quote(column)}", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    table = re.search(r'<table class="sortable" id="contacts">.*?</table>', done.stdout, re.S)
    assert table
    heads = re.findall(r"<button[^>]*>([^<]+)</button>", table.group(0))
    index = heads.index(column)
    values = [
        float(re.findall(r'data-value="([^"]*)"', row)[index])
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)[1:]
    ]
    assert len(values) > 10
    assert values == sorted(values, reverse=True)  # first click: highest first
    assert len(set(values)) > 1


# ---- how the page reads, measured in the browser at a desktop's and a phone's width ----

MEASURE = """<script>
(function () {
  var out = {fonts: [], rows: {}, wrapped: [], width: window.innerWidth};
  document.querySelectorAll("svg text").forEach(function (t) {
    if (getComputedStyle(t).display === "none") { return; }
    out.fonts.push(parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
  });
  document.querySelectorAll(".charts figure").forEach(function (f) {
    var top = Math.round(f.getBoundingClientRect().top);
    out.rows[top] = (out.rows[top] || 0) + 1;
  });
  document.querySelectorAll("th, td:not(.t), .tile span").forEach(function (cell) {
    var walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT), node, tops = {};
    while ((node = walker.nextNode())) {
      if (node.parentElement.closest("small")) { continue; }
      var range = document.createRange(); range.selectNodeContents(node);
      Array.prototype.forEach.call(range.getClientRects(), function (r) {
        if (r.width > 0) { tops[Math.round(r.top)] = true; }
      });
    }
    if (Object.keys(tops).length > 1) { out.wrapped.push(cell.textContent.trim()); }
  });
  var pre = document.createElement("pre"); pre.id = "measured";
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
})();
</script>"""


def measured(page: Path, tmp_path: Path, width: int) -> dict[str, Any]:
    """What MEASURE finds in `page` laid out `width` px wide.

    Headless Chromium lays a window out at least 500 px wide, so the page is shown in
    a frame of exactly `width` (tall enough to need no scroll bar), and the script in
    it reports to the outer page, which --dump-dom prints.
    """
    inner = page.read_text(encoding="utf-8").replace(
        "</body>",
        MEASURE.replace("document.body.appendChild", "parent.document.body.appendChild")
        + "</body>",
    )
    probe = tmp_path / f"probe-{width}.html"
    probe.write_text(
        '<!DOCTYPE html><html><body style="margin:0">'
        f'<iframe style="width:{width}px;height:20000px;border:0" '
        f'srcdoc="{html.escape(inner, quote=True)}"></iframe></body></html>',
        encoding="utf-8",
    )
    done = run_chromium(tmp_path, probe.as_uri(), "--dump-dom", "--window-size=1400,2400")
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stdout[-2000:]
    seen = dict(json.loads(html.unescape(found.group(1))))
    assert seen["width"] == width
    return seen


@pytest.mark.parametrize("width", [1280, 390])
def test_chart_text_is_readable_and_no_chart_sits_alone(
    page: Path, tmp_path: Path, width: int
) -> None:
    seen = measured(page, tmp_path, width)
    assert len(seen["fonts"]) > 40
    assert min(seen["fonts"]) >= 11, sorted(seen["fonts"])[:5]  # px on the screen
    per_row = set(seen["rows"].values())
    assert per_row == ({2} if width == 1280 else {1}), seen["rows"]  # 2 × 2, or one a row


@pytest.mark.parametrize("width", [1280, 390])
def test_no_date_number_or_label_wraps(page: Path, tmp_path: Path, width: int) -> None:
    assert measured(page, tmp_path, width)["wrapped"] == []


def test_no_banner_repeats_the_cards(report: Report, page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert report.summary not in text and 'id="summary"' not in text
    assert text.count('class="tile"') == 8


def test_weekly_points_say_what_they_rest_on_and_thin_or_part_weeks_are_grey(
    report: Report, page: Path
) -> None:
    text = page.read_text(encoding="utf-8")
    chart = re.search(r'<svg id="chart-within-window".*?</svg>', text, re.S)
    assert chart
    svg = chart.group(0)
    weeks = report.weeks
    whole = [w.end - w.start >= timedelta(days=6, hours=22) for w in weeks]
    assert not whole[0] and not whole[-1]  # the period starts mid-week; this week is not over
    counted = [ok and w.judged >= 5 for w, ok in zip(weeks, whole, strict=True)]
    plotted = [w.within_share is not None for w in weeks]
    faint = sum(1 for c, p in zip(counted, plotted, strict=True) if p and not c)
    assert faint >= 1 and svg.count('class="datum faint"') == faint
    path = re.search(r'<path class="datum" d="([^"]+)"', svg)
    assert path and len(re.findall(r"[ML]", path.group(1))) == sum(counted)
    counts = re.findall(r'text-anchor="middle">(\d+)</text>', svg)
    assert counts[: len(weeks)] == [str(w.judged) for w in weeks]  # n under every point
    rows = re.findall(r'<tr class="faint"><td>([^<]+)</td>', text)
    assert rows[-1].endswith("(so far)") and len(rows) == whole.count(False)
