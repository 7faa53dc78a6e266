"""Turn a CDP's executed chapter notebooks into one code-free HTML report.

Code cells' inputs and prompts are hidden, log messages (stderr) are dropped, figures are embedded as
data URIs — the SVG each chapter displays (or, for a notebook that shows a PNG, the figure's SVG file where the
run wrote one, else the PNG) — so the file stands alone, and a
contents list linking to every chapter and section heading is put at the top. nbconvert's stylesheets are
replaced by the report's own (:data:`REPORT_CSS`, :data:`PRINT_CSS`); heading anchors ('¶') are removed and
empty header cells made data cells, for screen readers.

Nothing from data can add markup (:mod:`cdp_analysis.output.escape`): the title is escaped as Markdown, every
``<`` in the Markdown the chapters' code displays is made literal (the suite writes no raw HTML there), and a last
pass over the page keeps only what a static report needs: no script, no event-handler attribute, no link or
source other than http(s), mailto, a fragment or a relative path (and embedded PNGs), no frame, object, form or
refresh (:func:`allowlist`).
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from pathlib import Path

import nbformat

from ..files import write_atomic
from . import escape

log = logging.getLogger(__name__)

_HEADING = re.compile(r"^(#{1,2})\s+(.+?)\s*#*\s*$", re.M)


def _anchor(text: str) -> str:
    # nbconvert's lab/classic templates give each heading the id of its text with spaces as hyphens
    return re.sub(r"\s", "-", text.strip())


def _unique(anchor: str, seen: dict[str, int]) -> str:
    """The k-th heading with the same anchor gets ``<anchor>-k`` (k ≥ 2), in document order."""
    seen[anchor] = seen.get(anchor, 0) + 1
    return anchor if seen[anchor] == 1 else f"{anchor}-{seen[anchor]}"


def _contents(cells: list) -> str:
    items, seen = [], {"Contents": 1}
    for cell in cells:
        if cell.cell_type != "markdown":
            continue
        for level, text in _HEADING.findall(cell.source):
            plain = re.sub(r"[*_`]", "", text)
            indent = "  " if level == "##" else ""
            items.append(f"{indent}- [{plain}](#{_unique(_anchor(plain), seen)})")
    return "## Contents\n\n" + "\n".join(items)


#: Print layout: A4, each chapter on a new page, nothing cut at a page edge, page numbers where supported.
PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
        @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 9pt; color: #505a5f; } }
@media print {
  body { font-size: 10pt; }
  /* the chapters start after the contents page and then follow on: a page break before each chapter left the
     end of the previous one as a near-blank page */
  h2#Contents + ul { break-after: page; }
  h1.chapter { margin-top: 1.6em; padding-top: 0.3em; border-top: 2px solid #0b0c0c; }
  h1, h2, h3 { break-after: avoid; }
  img, svg, figure, .jp-RenderedImage { break-inside: avoid; }
  /* a table may run over pages between its rows (a long table kept whole leaves a near-blank page, and one
     taller than a page loses rows); its heading row repeats on each page */
  table { break-inside: auto; } tr, caption { break-inside: avoid; } thead { display: table-header-group; }
  img { max-width: 100% !important; height: auto !important; }
  a.anchor-link { display: none; }
  .jp-OutputArea-output { overflow: visible !important; }
  .jp-RenderedHTMLCommon table { max-width: 100% !important; }
  .cdp-table, .cdp-table th, .cdp-table td, .cdp-table caption { font-size: 7.5pt !important; }
  .cdp-table th, .cdp-table td { padding: 0.1em 0.35em !important; }
  .cdp-table.wide { width: 100%; } .cdp-table td.note { white-space: nowrap !important; }
  .jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { white-space: normal !important; overflow-wrap: break-word; }
}
"""


def combine(notebooks: list[Path], *, title: str, subtitle: str, appendix: str = "") -> nbformat.NotebookNode:
    """One notebook of the chapters' cells (no parameter cells, no stderr), with a title and contents.

    ``title`` is plain text (escaped here); ``subtitle`` and ``appendix`` are Markdown whose untrusted parts the
    caller has escaped (:func:`cdp_analysis.output.escape.markdown_text`). ``appendix`` is added after the
    chapters, e.g. the "Where each number comes from" section.
    """
    cells = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            tags = cell.get("metadata", {}).get("tags", [])
            if "parameters" in tags or "injected-parameters" in tags:
                continue
            cell = copy.deepcopy(cell)
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
                for out in cell.outputs:  # the suite's Markdown has no raw HTML: a '<' there came from data
                    if "text/markdown" in out.get("data", {}):
                        out["data"]["text/markdown"] = escape.markdown_html(out["data"]["text/markdown"])
            cells.append(cell)
    if appendix:
        cells.append(nbformat.v4.new_markdown_cell(appendix, id="sources"))
    head = nbformat.v4.new_markdown_cell(f"# {escape.markdown_text(title)}\n\n{subtitle}", id="front-matter")
    report = nbformat.v4.new_notebook(cells=[head, nbformat.v4.new_markdown_cell(_contents(cells), id="contents"),
                                             *cells])  # fixed ids: the same inputs give the same HTML
    report.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                       "language_info": {"name": "python"}, "title": title}
    return report


#: A transparent 1×1 PNG: stands in for a figure's SVG output while nbconvert renders the page; :func:`_finish` puts
#: the SVG in its place (nbconvert would embed the SVG as an image the allowlist refuses).
_PLACEHOLDER_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5Erk"
                    "Jggg==")


def _images(nb: nbformat.NotebookNode) -> list[tuple[str, str, bytes | None]]:
    """(alternative text, the figure's SVG file relative to the output folder or '', the SVG itself or None) of
    each figure output, in order: the SVG a chapter displays (:func:`cdp_analysis.output.notebook.show_figure`,
    replaced here by :data:`_PLACEHOLDER_PNG`), or a PNG (a notebook of an earlier version, or a figure shown
    by hand). Changes ``nb`` in place."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data, meta = out.get("data", {}), out.get("metadata", {})
            if "image/svg+xml" in data and "figure" in meta.get("image/svg+xml", {}):
                svg = data.pop("image/svg+xml")
                svg = "".join(svg) if isinstance(svg, list) else svg
                data["image/png"] = _PLACEHOLDER_PNG
                meta["image/png"] = meta.pop("image/svg+xml")
                found.append((meta["image/png"].get("alt", ""), meta["image/png"]["figure"], svg.encode("utf-8")))
            elif "image/png" in data:
                png = meta.get("image/png", {})
                found.append((png.get("alt", ""), png.get("figure", ""), None))
    return found


_COMMENT = re.compile(r"<!--.*?-->", re.S)
#: A number of 1 or more with two or more decimals, not inside another number: its first digit, then the rest
#: kept (146.51391 → 146.5; 0.015625 kept). The look-behind follows the first digit: a pattern that starts with
#: a digit is searched for faster than one that starts with a look-behind, and matches the same.
_LONG_NUMBER = re.compile(r"([1-9])(?<![\d.][1-9])(\d*\.\d)\d+")
_PATH_DATA = re.compile(r' d="([^"]*)"')
_PATH_COMMAND = re.compile(r"\s*([MLQCZz])\s*")
#: A reference to an element (not a colour '#ccc').
_REFERENCE = re.compile(r'(xlink:href="#|url\(#)([\w.-]+)')
_ID = re.compile(r' id="([\w.-]+)"')


def _path_data(match: re.Match) -> str:
    """A path's ``d`` attribute without the spaces around its commands ('M 1 2 \nL 3 4' → 'M1 2L3 4')."""
    return ' d="' + _PATH_COMMAND.sub(r"\1", match.group(1)).strip() + '"'


def compact_svg(svg: bytes) -> str:
    """Matplotlib's SVG made smaller for embedding, drawing the same: comments and unreferenced element ids
    dropped, referenced ids shortened, coordinates of 1 or more to 0.1 unit (0.1 pt, 0.035 mm, on the page;
    scales and other numbers below 1 are kept whole), path commands without spaces."""
    text = _COMMENT.sub("", svg.decode("utf-8"))
    text = _LONG_NUMBER.sub(r"\1\2", text)
    text = _PATH_DATA.sub(_path_data, text)
    names = dict.fromkeys(m.group(2) for m in _REFERENCE.finditer(text))
    short = {name: f"i{k}" for k, name in enumerate(names)}
    ids = {name: f' id="{new}"' for name, new in short.items()}  # every other id is dropped
    text = _ID.sub(lambda m: ids.get(m.group(1), ""), text)
    return _REFERENCE.sub(lambda m: m.group(1) + short[m.group(2)], text)


def svg_data_uri(svg: bytes) -> str:
    """An SVG file as a compact ``data:`` URI for ``<img src>`` (:func:`compact_svg`), its runs of white space
    made one space; only the characters a URI or an HTML attribute cannot hold are escaped (base64 would add a
    third)."""
    text = " ".join(compact_svg(svg).replace('"', "'").split())  # str.split's white space is re's \s
    for char, code in (("%", "%25"), ("#", "%23"), ("<", "%3C"), (">", "%3E")):
        text = text.replace(char, code)
    return "data:image/svg+xml," + text


#: The report's own stylesheet, in place of nbconvert's (about 270 kB, mostly for widgets and code it does not
#: show): reading, tables, figures; the print rules are :data:`PRINT_CSS`.
REPORT_CSS = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 11pt; line-height: 1.45; color: #0b0c0c;
       max-width: 62rem; margin: 0 auto; padding: 1rem 1.5rem; }
h1 { font-size: 1.8em; margin: 1.2em 0 0.4em; } h2 { font-size: 1.4em; margin: 1.4em 0 0.4em; }
h3 { font-size: 1.15em; } p, li { max-width: 48rem; }
a { color: #1d70b8; } code { font-family: Consolas, monospace; background: #f3f2f1; padding: 0 0.2em; }
img { max-width: 100%; height: auto; display: block; margin: 0.5em 0; }
table { border-collapse: collapse; margin: 0.6em 0; } caption { text-align: left; font-weight: bold; }
th, td { border-bottom: 1px solid #b1b4b6; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; } td.text { text-align: left; }
h2#Contents + ul { column-count: 2; column-gap: 2rem; } h2#Contents + ul > li { break-inside: avoid; }
.jp-InputPrompt, .jp-OutputPrompt { display: none; }  /* code is excluded; Markdown cells are input areas */
"""


def _finish(body: str, texts: list[tuple[str, str, bytes | None]], folder: Path | None = None) -> str:
    """Give the n-th embedded PNG the n-th figure's alternative text and its SVG (:func:`_images`: the SVG the
    notebook displayed, else the figure's SVG file in ``folder`` if there is one; smaller, sharp in print); make
    the page self-contained, with the report's own stylesheet.

    nbconvert's template loads require.js, MathJax and mermaid from a CDN; council networks often block
    these, and a static report needs none of them. Every ``<script>`` is removed, and any stylesheet or
    image that is not embedded is refused (a programming error: figures are embedded as data URIs). Then
    :func:`allowlist` removes whatever else could run script or leave the page.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body, features="html.parser")
    _nbconvert_attributes(soup)
    for script in soup.find_all("script"):  # nbconvert's own (require.js, MathJax, mermaid)
        script.decompose()
    allowlist(soup)  # anything else that could run or leave the page can only have come from data
    images = [img for img in soup.find_all("img") if str(img.get("src", "")).startswith("data:image/png")]
    for img, (text, figure, svg) in zip(images, texts):
        if text:
            img["alt"] = text
        if svg is None and folder is not None and figure and (folder / figure).is_file():
            svg = (folder / figure).read_bytes()
        if svg is not None:  # after the allowlist: only the suite's own figures become SVG
            img["src"] = svg_data_uri(svg)
            img["data-figure"] = figure  # which file it is (the browser check prints the PNG in its place)
    for link in soup.find_all("a", class_="anchor-link"):  # the '¶' after each heading, which screen readers announce
        link.decompose()
    for th in soup.find_all("th"):  # an empty header cell (a table's corner) is not a header
        if not th.get_text(strip=True):
            th.name = "td"
            for attr in ("scope", "role"):
                th.attrs.pop(attr, None)
    # nbconvert's stylesheets are replaced by the report's own; a table's repeated style block is kept once
    for style in (soup.head.find_all("style") if soup.head else []):
        style.decompose()
    kept: set[str] = set()
    for style in soup.find_all("style"):
        text = style.get_text()
        if text in kept:
            style.decompose()
        kept.add(text)
    # headings that repeat (each chapter's "Key findings") get unique ids, matching the contents list
    seen: dict[str, int] = {}
    for heading in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        if not heading.get("id"):
            continue
        new = _unique(heading["id"], seen)
        if new != heading["id"]:
            for link in heading.find_all("a", class_="anchor-link", href=f"#{heading['id']}"):  # ids hold any text
                link["href"] = f"#{new}"
            heading["id"] = new
    for i, heading in enumerate(soup.find_all("h1")):
        if i > 0 and heading.get("id") != "Contents":
            heading["class"] = [*heading.get("class", []), "chapter"]
    for th in soup.select("table thead th"):  # Markdown tables (the sources section) get scoped headings too
        th.attrs.setdefault("scope", "col")
    style = soup.new_tag("style")
    style.string = REPORT_CSS + PRINT_CSS
    (soup.head or soup).append(style)
    external = [tag for tag in soup.find_all(["link", "img"])
                if EXTERNAL.match(tag.get("href", "") or tag.get("src", ""))]
    for tag in external:
        if tag.name == "link" and "icon" not in (tag.get("rel") or []):
            raise ValueError(f"the report would load {tag.get('href')} from the network")
        tag.decompose()
    return str(soup)


#: Elements a static report never needs, removed with their content wherever they come from.
FORBIDDEN_ELEMENTS = frozenset({
    "script", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet", "portal", "form", "input",
    "button", "select", "textarea", "option", "base", "foreignobject", "animate", "animatemotion",
    "animatetransform", "set", "handler", "listener"})
#: Attributes holding a URL: each must be http(s), mailto, a fragment or a relative path.
URL_ATTRIBUTES = ("href", "src", "xlink:href", "action", "formaction", "poster", "background", "data", "cite",
                  "longdesc", "lowsrc", "dynsrc", "ping", "codebase", "manifest", "srcset", "srcdoc")
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.I)
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]+")  # what browsers drop from a URL before reading its scheme
_ACTIVE_STYLE = re.compile(r"url\s*\(|expression\s*\(|javascript:|@import|behavior\s*:", re.I)


def _safe_url(tag_name: str, attribute: str, value: str) -> bool:
    """True for a URL a static report may hold in ``attribute`` of a ``tag_name`` element."""
    url = _IGNORED_IN_URL.sub("", value)
    if attribute in ("srcset", "srcdoc", "ping", "codebase", "manifest", "data"):
        return False  # none is used by the report; each can load or run something
    scheme = _SCHEME.match(url)
    if scheme is None:
        return True  # a fragment (#…), a relative path, or //host (an http(s) link; loads are refused in _finish)
    name = scheme.group(1).lower()
    if name in SAFE_SCHEMES:
        return True
    return tag_name == "img" and attribute == "src" and url.lower().startswith("data:image/png")


def allowlist(soup) -> int:
    """Remove from a parsed page everything that could run script or leave the page; return how many things.

    Removed: the elements of :data:`FORBIDDEN_ELEMENTS` (scripts, frames, objects, forms and their controls,
    ``<base>``, SVG's ``foreignObject`` and animations), ``<meta http-equiv>`` (refresh), images that are not
    embedded PNGs, every attribute whose name starts with ``on`` (event handlers), every URL attribute whose scheme
    is not http(s) or mailto (``javascript:``, ``vbscript:``, ``data:`` other than a PNG in ``<img src>``; a link
    that held one is replaced by its text) and style attributes that load or compute something. The report's own
    page holds none of these except nbconvert's scripts (removed before), so only data could have put the rest
    there, and a warning says how many were removed.
    """
    removed = 0
    gone: set[int] = set()  # the elements inside one removed (bs4's ``decomposed`` searches the page for each tag)
    for tag in soup.find_all(True):
        if id(tag) in gone:
            continue
        name = tag.name.lower()
        if (name in FORBIDDEN_ELEMENTS or (name == "meta" and tag.has_attr("http-equiv"))
                or (name == "img" and not _safe_image(tag))):
            gone.update(id(inner) for inner in tag.descendants)
            tag.decompose()
            removed += 1
            continue
        bad_link = False
        for attribute in list(tag.attrs):
            key = attribute.lower()
            value = tag.attrs[attribute]
            text = " ".join(value) if isinstance(value, list) else str(value)
            unsafe_url = key in URL_ATTRIBUTES and not _safe_url(name, key, text)
            if key.startswith("on") or unsafe_url or (key == "style" and _ACTIVE_STYLE.search(text)):
                del tag.attrs[attribute]
                removed += 1
                bad_link = bad_link or unsafe_url
        if bad_link and name == "a":
            tag.unwrap()  # a link to javascript: (or the like) is shown as its text
    if removed:
        log.warning("%d element(s) or attribute(s) that could run script or leave the report were removed", removed)
    return removed


def _safe_image(tag) -> bool:
    src = _IGNORED_IN_URL.sub("", str(tag.get("src", ""))).lower()
    return src.startswith("data:image/png")


#: A reference to another site (what an offline report must not load).
EXTERNAL = re.compile(r"^\s*(https?:)?//", re.I)


@functools.cache  # the class once per process (nbconvert is imported only when a report is written)
def _exporter_class():
    """nbconvert's HTML exporter (lab template) without its own parse of the page.

    ``HTMLExporter.from_notebook_node`` renders the template, then parses the whole page with BeautifulSoup to add
    two things, and serialises it again: a default ``alt`` on images without one, and ``tabindex="0"`` on input and
    output areas. :func:`_finish` parses the page anyway, so it adds these itself (:func:`_nbconvert_attributes`)
    and the page is parsed once (about 0.25 s per CDP; the same bytes: ``tests/test_runner.py``). The rest of
    nbconvert's method, registering its two filters, is done here as nbconvert does it.
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ReportExporter


@functools.cache
def _exporter():
    """The report's exporter (:func:`_exporter_class`), made once per process: a new exporter makes a new template
    environment, which compiles nbconvert's templates again (about 0.1 s a report). nbconvert keeps nothing of one
    notebook for the next (each call starts its resources afresh; its own command line converts many notebooks
    with one exporter). The combined notebook is validated once, after nbconvert's preprocessors, not after each
    of them (``optimistic_validation``; the preprocessors of an HTML export change outputs' form, not the
    notebook's structure). One thread at a time: a report is written by its CDP's worker process, and two threads
    sharing the exporter would register its filters in one template environment at once."""
    exporter = _exporter_class()(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.optimistic_validation = True
    exporter.log.setLevel(logging.ERROR)  # the report needs none of its warnings about the notebook
    return exporter


#: nbconvert's alternative text for an image without one (its ``HTMLExporter``).
NBCONVERT_MISSING_ALT = "No description has been provided for this image"


def _nbconvert_attributes(soup) -> None:
    """What nbconvert's ``HTMLExporter`` adds to the page it renders, in its order (see :func:`_exporter_class`)."""
    for elem in soup.select("img:not([alt])"):
        elem.attrs["alt"] = NBCONVERT_MISSING_ALT
    for elem in soup.select(".jp-Notebook div.jp-Cell-inputWrapper"):
        elem.attrs["tabindex"] = "0"
    for elem in soup.select(".jp-Notebook div.jp-OutputArea-output"):
        elem.attrs["tabindex"] = "0"


def write_html(notebooks: list[Path], target: Path, *, title: str, subtitle: str, appendix: str = "") -> None:
    """Write the code-free HTML report of ``notebooks`` to ``target``."""
    combined = combine(notebooks, title=title, subtitle=subtitle, appendix=appendix)
    figures = _images(combined)  # before rendering: each SVG figure output becomes a placeholder PNG
    body, _ = _exporter().from_notebook_node(combined)
    body = _finish(body, figures, target.parent)
    body = body.replace("<title>Notebook</title>", f"<title>{escape.html_text(title)}</title>", 1)
    write_atomic(target, body)
    log.info("wrote %s (%d kB)", target.name, len(body) // 1024)
