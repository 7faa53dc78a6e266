"""Where each dataset's newer editions are published: declarations only (no network code here).

A dataset module names its source on its :class:`~cdp_analysis.data.register.Dataset` (``source=``);
``cdp update`` (:mod:`cdp_analysis.update`) reads the declaration, asks the publisher for its editions, and
accepts a downloaded file only after the dataset's own loader and plausibility rules have read it.

Two kinds of publisher page are understood, each as the publisher structures it:

- :class:`OnsDataset`: an ONS dataset landing page (``www.ons.gov.uk/…/datasets/<name>``). Its JSON view
  (the page's address + ``/data``) lists the editions newest first (``datasets[].uri``); each edition's own
  ``/data`` lists its files (``downloads[].file``), fetched from ``/file?uri=<edition uri>/<file>``.
- :class:`GovUkPublication`: a GOV.UK publication page (OHID's files). GOV.UK's content API
  (``https://www.gov.uk/api/content/<path>``) gives the page's attachments (``details.attachments[]``: ``url``,
  ``title``, ``filename``, ``content_type``) and when it was last updated (``public_updated_at``).
- :class:`FingertipsIndicators`: OHID Fingertips indicators, each a complete CSV export for every area of
  an area type with the regions as parents, so England and the regions come too (the API's
  ``all_data/csv/by_indicator_id``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OnsDataset:
    """An ONS dataset landing page and which of its files the suite reads.

    Attributes
    ----------
    page : str
        The landing page's address (``https://www.ons.gov.uk/…/datasets/<name>``).
    kind : str
        The file kind a downloaded file is (:class:`~cdp_analysis.data.register.FileKind`).
    files : str
        A regular expression a download's file name must match (other files of the edition are ignored).
    period : callable
        Reads the period a downloaded file's figures describe (e.g. 'mid-2024', '2023') with the dataset's own
        parser; a file it cannot read is refused.
    editions : int
        How many of the newest editions to look at (the landing page lists them newest first).
    """

    page: str
    kind: str
    files: str
    period: Callable[[Path], str]
    editions: int = 1


@dataclass(frozen=True)
class GovUkPublication:
    """A GOV.UK publication page and which of its attachments the suite reads (see :class:`OnsDataset` for the
    attributes; ``page`` is ``https://www.gov.uk/government/publications/<slug>``)."""

    page: str
    kind: str
    files: str
    period: Callable[[Path], str]


@dataclass(frozen=True)
class FingertipsIndicators:
    """Fingertips indicators the suite reads, each downloaded as one complete export.

    ``ids``: a callable returning the indicator IDs (the chapters' and the outcomes catalogue's), read when
    ``cdp update`` runs; ``area_type``: the Fingertips area type of the areas (upper-tier local authorities).
    """

    ids: Callable[[], list[int]]
    kind: str
    area_type: int = 502


def period_key(text: str) -> tuple[int, int]:
    """A period's place in time, to say which of two is newer: (end year, length hint).

    'mid-2024' → (2024, 0); '2019-21' and '2019 - 21' → (2021, …); '2021/22' → (2022, …); '2023' → (2023, 0);
    (0, 0) when the text holds no year.
    """
    text = str(text)
    ends = [(int(a) // 100 * 100 + int(b) + (100 if int(b) < int(a) % 100 else 0), 1)  # '1999/00' ends in 2000
            for a, b in re.findall(r"(\d{4})\s*[-/–]\s*(\d{2})(?!\d)", text)]
    ends += [(int(y), 0) for y in re.findall(r"(?<!\d)(\d{4})(?!\d)", text)]
    return max(ends) if ends else (0, 0)
