"""Figures transcribed from published pages, each row with its source, period, definition and caveat.

Two files, as shipped in ``../shared/data/transcribed/``: ``england_benchmarks.csv`` (England treatment,
deaths in treatment and OCU prevalence figures from OHID reports) and ``seed_area_figures.csv`` (published
figures for Nottinghamshire and Northamptonshire, some re-reported by local news). Columns: ``area_code,
area_name, measure, value, unit, period, definition_as_reported, source_url, page_type, page_date,
original_source_cited, verification, caveat``. A transcribed figure is shown with its caveat and never mixed
with a figure of another method without saying so.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pandas as pd

from ..memo import memoised
from . import plausibility, register
from .readers import read_csv_table, to_numbers

log = logging.getLogger(__name__)

ENGLAND = register.FileKind("transcribed_england_benchmarks", "transcribed", "england_benchmarks*.csv")
SEED_AREAS = register.FileKind("transcribed_seed_area_figures", "transcribed", "seed_area_figures*.csv")
COLUMNS = ["area_code", "area_name", "measure", "value", "unit", "period", "definition_as_reported", "source_url",
           "page_type", "page_date", "original_source_cited", "verification", "caveat"]

#: Plausibility rules of both files.
RULES = (
    plausibility.Rule("a transcribed figure is not negative", "value", lambda t: t["value"].isna() | (t["value"] >= 0)),
    plausibility.Rule("every figure names its source page", "source_url",
                      lambda t: t["source_url"].str.strip().str.startswith("http")),
    plausibility.Rule("a percentage is at most 100", "value",
                      lambda t: ~t["unit"].str.contains("%|percent", case=False) | (t["value"] <= 100)),
)


#: Hosts of the national publishers' own documents: GOV.UK (OHID, DHSC, UKHSA, the Home Office publish there),
#: ONS, NHS England and OHID's Fingertips. A transcribed figure is used only if its page is on one of these;
#: figures re-reported elsewhere (newspapers, trade press, think tanks, professional bodies, and councils' own
#: pages quoting a national figure) are held in the file, which is kept unchanged, but never used.
PUBLISHER_HOSTS = ("gov.uk", "www.gov.uk", "assets.publishing.service.gov.uk", "ons.gov.uk", "www.ons.gov.uk",
                   "digital.nhs.uk", "www.england.nhs.uk", "england.nhs.uk", "fingertips.phe.org.uk")


def is_publishers_own(url: str) -> bool:
    """Whether ``url`` is a page of a national publisher's own (:data:`PUBLISHER_HOSTS`), not a secondary report."""
    host = (urlsplit(str(url).strip()).hostname or "").lower()
    return host in PUBLISHER_HOSTS


def _read(kind: register.FileKind) -> pd.DataFrame:
    path = register.file_of_kind(kind.kind)
    raw = read_csv_table(path, COLUMNS)
    raw["value"] = to_numbers(raw, "value", file=path, allow_missing=True)
    plausibility.check(raw, RULES, file=path)
    return raw.drop(columns="_row").assign(source=register.citation_of(path))


@memoised()
def figures() -> pd.DataFrame:
    """Both files' rows, with ``source`` (data-register citation) beside each row's ``source_url``."""
    return pd.concat([_read(ENGLAND), _read(SEED_AREAS)], ignore_index=True)


def figure(measure: str, *, area_code: str, period: str | None = None) -> pd.DataFrame:
    """The rows of one measure for one area (and period), possibly none, whatever their source."""
    t = figures()
    hit = t[(t["measure"] == measure) & (t["area_code"] == area_code)]
    return hit if period is None else hit[hit["period"] == period]


def official(measure: str, *, area_code: str, period: str | None = None) -> pd.DataFrame:
    """:func:`figure`, only the rows transcribed from the publisher's own documents (:func:`is_publishers_own`):
    what chapters use."""
    hit = figure(measure, area_code=area_code, period=period)
    return hit[hit["source_url"].map(is_publishers_own)]


DATASET = register.Dataset(name="transcribed", title="Figures transcribed from published pages",
                           kinds=(ENGLAND, SEED_AREAS), load=figures, rules=RULES)
