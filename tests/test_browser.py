"""The reports in a real browser (`make browser-check`, which installs headless Chromium and poppler from
Debian's packages): each report printed to PDF (A4) and screenshotted into ``outputs/browser-check/``, and
nothing cut at a page edge where that can be measured:

* every cell of every table reaches the PDF: a table cut at the page edge (clipped, or in a scrolling box)
  loses the cells beyond it, so each token of the tables' text must be in the PDF's text as often as in the
  HTML (``pdftotext``), and no word lies beyond the page's right or bottom edge (``pdftotext -bbox``);
* every chart is printed whole on one page: each embedded figure appears in the PDF exactly once
  (``pdfimages -list``), never split across two pages.

Not part of ``make test`` (Chromium is a large install); run ``make browser-check`` and look at the pages.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, copy_project, run_cli

pytestmark = pytest.mark.browser
CDPS = ["nottinghamshire", "northamptonshire"]
CHECK_DIR = REPO / "outputs" / "browser-check"


def _print_pdf(page: str, pdf: Path) -> None:
    """Print a page (its ``file://`` address) to ``pdf`` in headless Chromium, A4, without header or footer."""
    subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page], check=True, capture_output=True,
                   timeout=180)


def _assert_one_a4_page(pdf: Path) -> None:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    width, height = (float(v) for v in re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2, (width, height)  # A4


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    pytest.fail("headless Chromium is not installed: run `make browser-check`, which installs it")


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """Run both CDPs (with each figure's PNG too, for :func:`_as_png`), then print each report to PDF and take a
    screenshot."""
    out = tmp_path_factory.mktemp("reports")
    root = copy_project(tmp_path_factory.mktemp("browser") / "project")
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    defaults = root / "params" / "defaults.yaml"
    defaults.write_text(defaults.read_text(encoding="utf-8").replace("figure_png: false", "figure_png: true"),
                        encoding="utf-8")
    proc = run_cli("run", *CDPS, "--outputs", str(out), root=root)
    assert proc.returncode == 0, proc.stderr
    CHECK_DIR.mkdir(parents=True, exist_ok=True)
    browser = _chromium()
    pdfs = {}
    for slug in CDPS:
        html = out / slug / "report.html"
        pdf, png = CHECK_DIR / f"{slug}.pdf", CHECK_DIR / f"{slug}.png"
        common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files"]
        _print_pdf(html.as_uri(), pdf)
        subprocess.run([*common, "--window-size=1280,2400", f"--screenshot={png}", html.as_uri()],
                       check=True, capture_output=True, timeout=180)
        pdfs[slug] = (pdf, html)
        summary = CHECK_DIR / f"{slug}-summary.pdf"
        _print_pdf((out / slug / "summary.html").as_uri(), summary)
    return pdfs


@pytest.mark.parametrize("slug", CDPS)
def test_the_summary_prints_on_one_a4_page(printed, slug):
    _assert_one_a4_page(CHECK_DIR / f"{slug}-summary.pdf")


#: The longest one-page summaries: the made-up example's (a partnership with local data: every outcome has a figure,
#: a banner, a note on a comparison) and, of all 152 CDPs' pages printed on 2026-12-07, the fullest, Lancashire's
#: (six places named; docs/methods.md). The next fullest, Northamptonshire's, is a seed CDP's, checked above.
LONGEST = [str(REPO / "data" / "examples" / "nottinghamshire-made-up.yaml"), "lancashire"]


@pytest.mark.parametrize("cdp", LONGEST, ids=["made-up-example", "lancashire"])
def test_the_longest_summaries_print_on_one_a4_page(cdp, tmp_path):
    from cdp_analysis.chapters import outcomes, partnerships

    page = tmp_path / "summary.html"
    page.write_text(outcomes.summary_page(outcomes.build(partnerships.get(cdp))), encoding="utf-8")
    pdf = tmp_path / "summary.pdf"
    _print_pdf(page.as_uri(), pdf)
    _assert_one_a4_page(pdf)


def words(text: str) -> list[str]:
    """The words and numbers of a text, without punctuation, split at hyphens and dashes: a word may wrap at
    its hyphen ('drug-' / 'related') and a range at its dash ('(1,247–' / '2,090)'), and the PDF's reading order
    can put a neighbouring cell's words between the two lines."""
    return re.findall(r"[^\W_]+(?:[.,][^\W_]+)*", text)


def pdf_text(pdf: Path) -> str:
    """The words on the PDF's pages as laid out (``pdftotext -bbox``: a word wrapped at its hyphen stays two
    words, where plain ``pdftotext`` joins them without it)."""
    import html as html_

    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(html_.unescape(w) for w in re.findall(r"<word [^>]*>([^<]*)</word>", bbox))


def missing_table_text(html: str, pdf_words: str, selector: str = "table th, table td") -> list[str]:
    """Words of the HTML tables' cells (or of the elements ``selector`` picks) that the PDF holds fewer times
    than the HTML does."""
    from collections import Counter

    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    # innermost elements only: a list item holding a list would count its items' words twice
    wanted = Counter(w for cell in soup.select(selector) if not cell.select(selector)
                     for w in words(cell.get_text(" ")))
    have = Counter(words(pdf_words))
    return sorted(w for w, n in wanted.items() if have[w] < n)


def test_missing_table_text_finds_a_clipped_table(tmp_path):
    """The check itself: a table wider than the page inside a scrolling box loses cells in print."""
    cells = "".join(f"<td>cell{i:03d}</td>" for i in range(120))
    html = f"<html><body><div style='overflow-x:auto'><table><tr>{cells}</tr></table></div></body></html>"
    page = tmp_path / "wide.html"
    page.write_text(html)
    pdf = tmp_path / "wide.pdf"
    _print_pdf(page.as_uri(), pdf)
    assert "cell119" in missing_table_text(html, pdf_text(pdf))


@pytest.mark.parametrize("slug", CDPS)
def test_every_table_cell_is_printed(printed, slug):
    pdf, html = printed[slug]
    missing = missing_table_text(html.read_text(), pdf_text(pdf))
    assert not missing, f"table text not in the PDF (cut at a page edge?): {missing[:10]}"


@pytest.mark.parametrize("slug", CDPS)
def test_every_heading_and_sentence_is_printed(printed, slug):
    """The title, contents, headings and narrative reach the page (a stylesheet once hid every Markdown cell)."""
    pdf, html = printed[slug]
    text = pdf_text(pdf)
    assert "Substance misuse needs assessment" in text and "Where each number comes from" in text
    missing = missing_table_text(html.read_text(), text, selector="h1, h2, h3, p, li")
    assert not missing, f"text not in the PDF: {missing[:10]}"


@pytest.mark.parametrize("slug", CDPS)
def test_no_text_beyond_the_page_edges(printed, slug):
    pdf, _ = printed[slug]
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = re.split(r"<page ", bbox)[1:]
    assert pages, "no pages"
    for number, page in enumerate(pages, start=1):
        width, height = (float(v) for v in re.match(r'width="([\d.]+)" height="([\d.]+)"', page).groups())
        for x_max, y_max, word in re.findall(r'xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', page):
            assert float(x_max) <= width + 0.5, f"page {number}: '{word}' runs off the right edge"
            assert float(y_max) <= height + 0.5, f"page {number}: '{word}' runs off the bottom edge"


@pytest.mark.parametrize("slug", CDPS)
def test_no_near_blank_pages(printed, slug):
    """Every page but the last is filled at least a quarter of the way down (a chapter's last lines alone on a
    page, or a table's heading row alone, is a near-blank page)."""
    pdf, _ = printed[slug]
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = re.split(r"<page ", bbox)[1:]
    for number, page in enumerate(pages[:-1], start=1):
        height = float(re.match(r'width="[\d.]+" height="([\d.]+)"', page).group(1))
        body = [float(y) for y in re.findall(r'yMax="([\d.]+)"', page) if float(y) < height - 40]  # not the footer
        assert body and max(body) > 0.25 * height, f"page {number} is nearly blank"


def _as_png(html: Path) -> Path:
    """The report with each embedded SVG figure replaced by its PNG file drawn in the same box (the SVG's own
    size): the same layout, but images ``pdfimages`` can count (vector figures are not images in a PDF)."""
    import base64

    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    for img in soup.select("img[data-figure]"):
        svg = (html.parent / img["data-figure"]).read_text(encoding="utf-8")
        w, h = (float(re.search(rf'{k}="([\d.]+)pt"', svg).group(1)) * 4 / 3 for k in ("width", "height"))
        png = (html.parent / img["data-figure"]).with_suffix(".png").read_bytes()
        img["src"] = "data:image/png;base64," + base64.b64encode(png).decode()
        img["width"], img["height"] = f"{w:.0f}", f"{h:.0f}"
    out = html.with_name("report-png.html")
    out.write_text(str(soup), encoding="utf-8")
    return out


@pytest.mark.parametrize("slug", CDPS)
def test_every_chart_is_printed_whole_on_one_page(printed, slug, tmp_path):
    _, html = printed[slug]
    n_figures = html.read_text().count('src="data:image/svg+xml,')
    pdf = tmp_path / f"{slug}-png.pdf"
    _print_pdf(_as_png(html).as_uri(), pdf)
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    images = [r for r in rows if r[2] == "image"]  # smask rows are the images' alpha channels
    assert len(images) == n_figures, f"{len(images)} image pieces in the PDF for {n_figures} figures: one is split"
