"""``cdp fetch fingertips``: downloads against a local HTTP server on 127.0.0.1 that answers like the Fingertips
API (no test touches the internet): a good export is saved unchanged with its provenance; a server error, a
malformed body or an unreachable server give one clear error and write nothing."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from pathlib import Path

import pytest

from cdp_analysis import cli
from cdp_analysis.data import fingertips

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "raw" / "fingertips" / "indicator_93532_alcohol_not_in_treatment_sample.csv"


class _Handler(http.server.BaseHTTPRequestHandler):
    answers: dict = {}
    seen: list = []

    def do_GET(self):  # noqa: N802 - the http.server API
        self.seen.append(self.path)
        ident = self.path.split("indicator_ids=")[1].split("&")[0]
        status, body = self.answers.get(ident, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", "text/csv")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Handler.answers, _Handler.seen = {}, []
    yield f"http://127.0.0.1:{server.server_address[1]}/api/", _Handler
    server.shutdown()


def test_a_good_export_is_saved_unchanged_with_provenance(api, tmp_path):
    url, handler = api
    body = SAMPLE.read_bytes()
    handler.answers["93532"] = (200, body)
    (path,) = fingertips.fetch([93532], folder=tmp_path, api=url)
    assert path.read_bytes() == body
    prov = json.loads(path.with_suffix(".provenance.json").read_text())
    assert prov["sha256"] == hashlib.sha256(body).hexdigest() and prov["indicator_id"] == "93532"
    assert "all_data/csv/by_indicator_id?indicator_ids=93532&child_area_type_id=502" in prov["url"]
    assert handler.seen == ["/api/all_data/csv/by_indicator_id?indicator_ids=93532&child_area_type_id=502"
                            "&parent_area_type_id=15"]
    assert fingertips.downloaded(tmp_path) == [path]
    assert len(fingertips.read_export(path)) == len(fingertips.read_export(SAMPLE))


@pytest.mark.parametrize(("answer", "needles"), [
    ((500, b"Internal Server Error"), ["HTTP 500 for indicator 93532", "nothing was written"]),
    ((200, b"<html><body>Service unavailable</body></html>"), ["is not an indicator export", "nothing was written"]),
    ((200, SAMPLE.read_bytes()[:400]), ["is not an indicator export"]),
])
def test_server_errors_and_malformed_bodies_write_nothing(api, tmp_path, capsys, answer, needles):
    url, handler = api
    handler.answers["93532"] = answer
    status = cli.main(["fetch", "fingertips", "93532", "--folder", str(tmp_path), "--api", url])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_server_is_exit_3_and_writes_nothing(tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    status = cli.main(["fetch", "fingertips", "93532", "--folder", str(tmp_path), "--api", f"http://127.0.0.1:{port}/api/"])
    err = capsys.readouterr().err
    assert status == 3 and "cannot reach the Fingertips API" in err
    assert list(tmp_path.iterdir()) == []


def test_the_next_run_uses_downloaded_exports(api, tmp_path, monkeypatch):
    from cdp_analysis.chapters import treatment_gap as tg

    url, handler = api
    handler.answers["93532"] = (200, SAMPLE.read_bytes())
    (path,) = fingertips.fetch([93532], folder=tmp_path, api=url)
    monkeypatch.setattr(fingertips, "user_folder", lambda: tmp_path)
    rows = tg.fingertips_rows(tg.Settings())
    alcohol = rows[rows["substance"] == tg.ALCOHOL]
    assert len(alcohol) and alcohol["source"].str.contains(str(path), regex=False).all()  # the later file wins
