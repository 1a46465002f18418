"""The HTML report: self-contained, renders in headless Chromium, and its charts drew."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
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


@pytest.mark.parametrize("column", ["staleness", "days since"])
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
