"""What each publisher offers: the editions of an ONS dataset and the Fingertips indicators, as candidates.

A :class:`Candidate` is one file a publisher offers for a dataset: its address, file name, the edition's name
and release date as the publisher gives them, and (where the publisher states it before download) a period.
Nothing is downloaded here except the publishers' JSON pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from ..data.sources import FingertipsIndicators, GovUkPublication, OnsDataset
from ..data.web import Client
from ..errors import InputError

ONS = "https://www.ons.gov.uk"
FINGERTIPS_API = "https://fingertips.phe.org.uk/api/"
#: Fingertips' area type of the English regions, the parents asked for (15 would give England only).
REGIONS = 6


@dataclass(frozen=True)
class Candidate:
    """One file a publisher offers for a dataset."""

    dataset: str
    kind: str
    url: str
    filename: str
    edition: str
    released: str = ""
    title: str = ""
    page: str = ""
    indicator: str = ""


def ons_candidates(dataset: str, source: OnsDataset, client: Client) -> list[Candidate]:
    """The files of the newest ``source.editions`` editions of an ONS dataset whose names match
    ``source.files``, newest edition first, read from the landing page's and each edition's ``/data`` JSON."""
    landing = client.json(source.page.rstrip("/") + "/data")
    if landing.get("type") != "dataset_landing_page" or not isinstance(landing.get("datasets"), list):
        raise InputError("the ONS page is not a dataset landing page (no 'datasets' list in its /data view)",
                         where=source.page, hint="the page may have moved; nothing was written")
    description = landing.get("description", {})
    out = []
    for i, ref in enumerate(landing["datasets"][:source.editions]):
        uri = ref["uri"]
        edition = client.json(ONS + uri + "/data")
        desc = edition.get("description", {})
        released = (description if i == 0 else desc).get("releaseDate", "")  # an edition's own date can be stale
        for item in edition.get("downloads", []):
            name = item.get("file") or str(item.get("uri", "")).rsplit("/", 1)[-1]
            if not re.search(source.files, name):
                continue
            url = (f"{ONS}/file?uri={quote(uri + '/' + item['file'])}" if item.get("file")
                   else f"{ONS}/downloads-new{item['uri']}")
            out.append(Candidate(dataset=dataset, kind=source.kind, url=url, filename=name,
                                 edition=str(desc.get("edition", "")).strip(), released=str(released)[:10],
                                 title=str(description.get("title", "")).strip(), page=source.page))
    return out


def govuk_candidates(dataset: str, source: GovUkPublication, client: Client) -> list[Candidate]:
    """The attachments of a GOV.UK publication whose file names match ``source.files``, from GOV.UK's content
    API (``/api/content/<path>``: ``details.attachments[]`` with ``url``, ``title``, ``filename``)."""
    parts = urlsplit(source.page)
    page = client.json(f"{parts.scheme}://{parts.netloc}/api/content{parts.path}")
    attachments = (page.get("details") or {}).get("attachments")
    if not isinstance(attachments, list):
        raise InputError("the GOV.UK page lists no attachments (no 'details.attachments' in its content API view)",
                         where=source.page, hint="the page may have moved; nothing was written")
    updated = str(page.get("public_updated_at", ""))[:10]
    out = []
    for a in attachments:
        name = a.get("filename") or str(a.get("url", "")).rsplit("/", 1)[-1]
        if a.get("url") and re.search(source.files, name):
            out.append(Candidate(dataset=dataset, kind=source.kind, url=a["url"], filename=name,
                                 edition=str(a.get("title", "")).strip(), released=updated,
                                 title=str(page.get("title", "")).strip(), page=source.page))
    return out


def fingertips_candidates(dataset: str, source: FingertipsIndicators, client: Client) -> list[Candidate]:
    """One complete export per indicator: every area of ``source.area_type`` with the regions as parents (so the
    export holds England, each region and each area), named as ``cdp fetch`` names it; the indicator's name and
    last upload from its metadata."""
    ids = source.ids()
    meta = client.json(f"{FINGERTIPS_API}indicator_metadata/by_indicator_id?indicator_ids="
                       + ",".join(str(i) for i in ids)) if ids else {}
    out = []
    for ident in ids:
        m = meta.get(str(ident), {}) if isinstance(meta, dict) else {}
        name = (m.get("Descriptive") or {}).get("Name", "")
        uploaded = str((m.get("DataChange") or {}).get("LastUploadedAt", ""))[:10]
        url = (f"{FINGERTIPS_API}all_data/csv/by_indicator_id?indicator_ids={ident}"
               f"&child_area_type_id={source.area_type}&parent_area_type_id={REGIONS}")
        out.append(Candidate(dataset=dataset, kind=source.kind, url=url,
                             filename=f"indicator_{ident}_area_type_{source.area_type}.csv",
                             edition=f"API export, uploaded {uploaded}" if uploaded else "API export",
                             released=uploaded, title=name, page=f"https://fingertips.phe.org.uk/search/{ident}",
                             indicator=str(ident)))
    return out


def candidates(dataset: str, source, client: Client) -> list[Candidate]:
    """The candidates a dataset's source offers."""
    if isinstance(source, OnsDataset):
        return ons_candidates(dataset, source, client)
    if isinstance(source, FingertipsIndicators):
        return fingertips_candidates(dataset, source, client)
    if isinstance(source, GovUkPublication):
        return govuk_candidates(dataset, source, client)
    raise TypeError(f"unknown source {source!r}")
