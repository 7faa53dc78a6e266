"""The one place the suite talks to the internet (``cdp update``, ``cdp fetch``): pages, JSON and file downloads.

A download streams to a temporary file beside its destination and is checked against the length the server
announced; an interrupted or short download raises and leaves nothing behind. ``mirror`` (``cdp update
--mirror URL``) sends every request for ``https://<host>/<path>`` to ``URL/<host>/<path>`` instead: for an
organisation's own copy of the publishers' sites, and for the tests' server on the loopback address.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import CannotRunError, InputError

log = logging.getLogger(__name__)

#: Bytes read per block while downloading.
BLOCK = 1 << 16


#: What to do when the publisher cannot be reached, or answers with an error status (``cdp update``'s words).
OFFLINE_HINT = ("check the internet connection (`cdp update` and `cdp fetch` are the only commands that need it); "
                "the data already held are used until then")
STATUS_HINT = ("the page may have moved: check the address in the dataset's source (data/README.md, 'Newer "
               "editions'); nothing was written")


class Client:
    """HTTP GETs (``requests``), through ``mirror`` when one is given, each failure one readable error.

    Parameters
    ----------
    mirror : str, optional
        Base address standing in for every publisher's host (``http://127.0.0.1:8000`` →
        ``http://127.0.0.1:8000/www.ons.gov.uk/…``).
    timeout : float
        Seconds to wait for the server to answer (connect and each read).
    name : str
        Who answers, in the messages ('the publisher', 'the Fingertips API').
    offline_hint, status_hint : str
        What to do when the server cannot be reached (:class:`CannotRunError`) or answers an error status
        (:class:`InputError`).
    """

    def __init__(self, mirror: str | None = None, timeout: float = 60, *, name: str = "the publisher",
                 offline_hint: str = OFFLINE_HINT, status_hint: str = STATUS_HINT):
        import requests

        self.mirror = mirror.rstrip("/") if mirror else None
        self.timeout = timeout
        self.name, self.offline_hint, self.status_hint = name, offline_hint, status_hint
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "cdp-analysis (cdp update)"
        # the file's own bytes: a compressed transfer would make the announced length that of the compressed body
        self.session.headers["Accept-Encoding"] = "identity"

    def address(self, url: str) -> str:
        """Where a request for ``url`` goes (the mirror's copy when there is a mirror)."""
        if not self.mirror:
            return url
        parts = urlsplit(url)
        return f"{self.mirror}/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def get(self, url: str, *, what: str = "", **kwargs):
        """The server's reply to a GET of ``url`` (status 200); ``what`` ends the error-status message
        (' for indicator 93532')."""
        import requests

        try:
            reply = self.session.get(self.address(url), timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise CannotRunError(f"cannot reach {self.name} ({type(exc).__name__})", where=url,
                                 hint=self.offline_hint) from None
        if reply.status_code != 200:
            raise InputError(f"{self.name} answered HTTP {reply.status_code}{what}", where=url, hint=self.status_hint)
        return reply

    def json(self, url: str) -> dict:
        """The JSON a page returns."""
        reply = self.get(url)
        try:
            return reply.json()
        except ValueError:
            raise InputError("the publisher's page is not the JSON expected", where=url,
                             hint="the publisher may have changed its site; nothing was written") from None

    def download(self, url: str, folder: Path, progress: Callable[[int, int | None], None] | None = None) -> Path:
        """Stream ``url`` into a new temporary file in ``folder`` and return its path (the caller moves or
        removes it). Raises, leaving no file, if the transfer stops early or is shorter than announced."""
        import requests

        folder.mkdir(parents=True, exist_ok=True)
        reply = self.get(url, stream=True)
        expected = int(reply.headers["Content-Length"]) if reply.headers.get("Content-Length", "").isdigit() else None
        fd, name = tempfile.mkstemp(dir=folder, prefix=".download-", suffix=".part")
        done = 0
        try:
            with os.fdopen(fd, "wb") as fh:
                for block in reply.iter_content(BLOCK):
                    fh.write(block)
                    done += len(block)
                    if progress:
                        progress(done, expected)
            if expected is not None and done != expected:
                raise InputError(f"the download stopped early ({done:,} of {expected:,} bytes)", where=url,
                                 hint="run `cdp update` again; nothing was written")
        except requests.RequestException as exc:
            Path(name).unlink(missing_ok=True)
            raise InputError(f"the download was interrupted ({type(exc).__name__}) after {done:,} bytes", where=url,
                             hint="run `cdp update` again; nothing was written") from None
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Path(name)
