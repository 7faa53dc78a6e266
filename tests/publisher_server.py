"""A stand-in for the publishers' sites on the loopback address, for the tests of ``cdp update``.

It serves real files from the bundle under the publishers' own paths, and JSON pages with the structure the
publishers' pages have (looked up, not invented):

- ONS dataset landing page ``<page>/data``: ``{"type": "dataset_landing_page", "uri", "description":
  {"title", "releaseDate", "nextRelease"}, "datasets": [{"uri": <edition uri>}, …]}`` (editions newest first);
  an edition's ``<edition uri>/data``: ``{"type": "dataset", "uri", "downloads": [{"file"}],
  "supplementaryFiles": [], "versions": [], "description": {"edition", "releaseDate", "versionLabel"}}``; files
  at ``/file?uri=<edition uri>/<file>`` (as recorded from www.ons.gov.uk in ONS-OpenData/gss-utils' fixtures, and
  as ONSdigital/dp-frontend-dataset-controller builds download links).
- GOV.UK content API ``/api/content/<path>``: ``{"base_path", "title", "schema_name": "publication",
  "document_type", "first_published_at", "public_updated_at", "details": {"attachments": [{"attachment_type":
  "file", "id", "title", "url", "content_type", "filename", "file_size"}], "change_history"}}`` (alphagov/
  publishing-api's content schema examples); attachments at ``assets.publishing.service.gov.uk/media/<id>/<file>``.
- Fingertips API: ``indicator_metadata/by_indicator_id?indicator_ids=…`` → ``{"<id>": {"IID", "Descriptive":
  {"Name"}, "DataChange": {"LastUploadedAt"}}}``; ``all_data/csv/by_indicator_id?indicator_ids=<id>&…`` → the
  export's CSV bytes (fingertipsR / fingertips_py endpoints).

Requests arrive as ``/<host>/<path>`` (``cdp update --mirror http://127.0.0.1:<port>``).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

ONS = "www.ons.gov.uk"
FINGERTIPS = "fingertips.phe.org.uk"
GOVUK = "www.gov.uk"
ASSETS = "assets.publishing.service.gov.uk"


class Site:
    """What the stand-in serves: ``pages`` (host, path) → JSON; ``files`` (host, path) → bytes; ``cut``: paths
    whose download stops halfway (the length announced in full)."""

    def __init__(self):
        self.pages: dict[tuple[str, str], object] = {}
        self.files: dict[tuple[str, str], bytes] = {}
        self.cut: set[tuple[str, str]] = set()
        self.requests: list[str] = []

    def ons_dataset(self, page_path: str, title: str, editions: list[tuple[str, str, str, Path]]) -> None:
        """An ONS landing page and its editions: (edition slug, edition name, release date, file to serve)."""
        self.pages[(ONS, page_path + "/data")] = {
            "type": "dataset_landing_page", "uri": page_path, "relatedDatasets": [], "relatedDocuments": [],
            "datasets": [{"uri": f"{page_path}/{slug}"} for slug, *_ in editions],
            "description": {"title": title, "summary": "", "keywords": [], "metaDescription": "",
                            "nationalStatistic": True, "releaseDate": editions[0][2] + "T00:00:00.000Z",
                            "nextRelease": "To be announced", "datasetId": "", "unit": "", "preUnit": "",
                            "source": ""}}
        for slug, name, released, path in editions:
            uri = f"{page_path}/{slug}"
            self.pages[(ONS, uri + "/data")] = {
                "type": "dataset", "uri": uri, "downloads": [{"file": path.name}], "supplementaryFiles": [],
                "versions": [], "description": {"releaseDate": released + "T00:00:00.000Z", "edition": name,
                                                "unit": "", "preUnit": "", "source": "", "versionLabel": ""}}
            self.files[(ONS, f"/file?uri={uri}/{path.name}")] = path.read_bytes()

    def govuk_publication(self, page_path: str, title: str, updated: str, files: list[tuple[str, Path]]) -> None:
        """A GOV.UK publication and its attachments: (attachment title, file to serve)."""
        attachments = []
        for i, (name, path) in enumerate(files):
            ident = f"{i + 1:024x}"
            attachments.append({"attachment_type": "file", "id": ident, "title": name,
                                "url": f"https://{ASSETS}/media/{ident}/{path.name}",
                                "content_type": "text/csv" if path.suffix == ".csv" else "application/octet-stream",
                                "filename": path.name, "file_size": path.stat().st_size})
            self.files[(ASSETS, f"/media/{ident}/{path.name}")] = path.read_bytes()
        self.pages[(GOVUK, "/api/content" + page_path)] = {
            "base_path": page_path, "title": title, "schema_name": "publication",
            "document_type": "official_statistics", "first_published_at": "2017-03-16T09:30:00.000+00:00",
            "public_updated_at": updated + "T09:30:00.000+00:00", "locale": "en",
            "details": {"attachments": attachments, "change_history": [
                {"public_timestamp": updated + "T09:30:00.000+00:00", "note": "Updated estimates."}]}}

    def fingertips_indicator(self, ident: int, name: str, uploaded: str, export: Path) -> None:
        meta = self.pages.setdefault((FINGERTIPS, "/api/indicator_metadata/by_indicator_id"), {})
        meta[str(ident)] = {"IID": ident, "Descriptive": {"Name": name}, "DataChange": {"LastUploadedAt": uploaded}}
        self.files[(FINGERTIPS, f"/api/all_data/csv/by_indicator_id#{ident}")] = export.read_bytes()


def _handler(site: Site):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):  # noqa: N802 - the standard library's name
            parts = urlsplit(self.path)
            host, _, path = parts.path.lstrip("/").partition("/")
            path = "/" + path
            site.requests.append(f"{host}{path}")
            query = parse_qs(parts.query)
            if host == ONS and path == "/file":
                key = (ONS, "/file?uri=" + unquote(query.get("uri", [""])[0]))
            elif host == FINGERTIPS and path.endswith("all_data/csv/by_indicator_id"):
                key = (FINGERTIPS, f"{path}#{query.get('indicator_ids', [''])[0]}")
            else:
                key = (host, path)
            if key in site.files:
                body = site.files[key]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if key in site.cut else body)
                if key in site.cut:
                    self.wfile.flush()
                    self.close_connection = True
                return
            page = site.pages.get(key)
            if isinstance(page, dict) and path.endswith("indicator_metadata/by_indicator_id"):
                wanted = query.get("indicator_ids", [""])[0].split(",")
                page = {i: page[i] for i in wanted if i in page}
            if page is None:
                self.send_error(404)
                return
            body = json.dumps(page).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class Server:
    """The stand-in running in a thread: ``with Server(site) as url: …`` (``url`` is the mirror address)."""

    def __init__(self, site: Site):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
