"""Accepting a downloaded file: read it with the dataset's own loader first, then put it in the user overlay.

:func:`accept` takes a file downloaded into ``data/user/.staging/`` and

1. reads its period with the dataset's own parser (a file whose layout changed is refused here, or in 3);
2. decides what it replaces (:attr:`~cdp_analysis.data.register.FileKind.one_per`) and whether it is newer than
   what is held (same bytes, or an older period, is not);
3. loads the dataset with the file in place of what it replaces (:func:`cdp_analysis.data.register.trial`),
   so the loader's layout checks and plausibility rules run on it as they will in a run;
4. only then moves it to ``data/user/updates/<folder>/<sha>-<file>`` (a new name for every new file, so no
   held file is ever overwritten) and records it in ``data/user/register.yaml``
   (:class:`~cdp_analysis.data.register.RegisteredFile` with where and when it was downloaded and what it
   replaces). A refused file is deleted and the held edition stays in use.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
from dataclasses import asdict
from pathlib import Path

import yaml

from ..data import fingertips, register
from ..data.sources import FingertipsIndicators, period_key
from ..errors import InputError
from ..files import write_atomic
from .publishers import Candidate

log = logging.getLogger(__name__)


class AlreadyHeldError(Exception):
    """The downloaded file is what is held already, or older (nothing to do)."""


def staging_dir() -> Path:
    """``data/user/.staging``: where downloads wait while they are checked (emptied after each)."""
    return register.user_register_path().parent / ".staging"


#: Where accepted downloads are kept, under ``data/user/`` (``cdp fetch`` keeps its own in ``data/user/fingertips``).
FOLDER = "updates"


def held_entries(kinds) -> list[register.RegisteredFile]:
    """The registered files of these kinds in use now (the bundle's and accepted downloads, less those
    replaced)."""
    kinds = {kinds} if isinstance(kinds, str) else set(kinds)
    gone = register.replaced()
    return [e for e in register.load_register() if e.kind in kinds and e.path not in gone
            and register.file_path(e.path).is_file()]


def _same_content(spec: register.FileKind, entry: register.RegisteredFile, period: str, indicator: str) -> bool:
    """Whether a held file holds what the new file holds (so that the new one replaces it)."""
    if spec.one_per == "period":
        return period_key(entry.period) == period_key(period)
    if spec.one_per == "indicator":
        return fingertips.indicator_of(Path(entry.path)) == indicator
    return True


def _period(source, candidate: Candidate, staged: Path) -> str:
    """The period of the downloaded file's figures, read by the dataset's own parser."""
    if isinstance(source, FingertipsIndicators):
        t = fingertips.read_export(staged)
        if set(t["indicator_id"]) != {candidate.indicator}:
            raise InputError(f"the export holds indicator(s) {', '.join(sorted(set(t['indicator_id'])))}, "
                             f"not {candidate.indicator}", file=staged)
        return t.sort_values("time_period_sortable")["time_period"].iloc[-1]
    return source.period(staged)


def accept(dataset: register.Dataset, candidate: Candidate, staged: Path) -> register.RegisteredFile:
    """Check a downloaded file and, if it is newer and reads as the dataset's files do, add it to the user
    overlay. Returns the new register entry.

    Raises
    ------
    AlreadyHeldError
        The same bytes are held, or the file's period is older than the one in use.
    InputError
        The file does not read as the dataset's files do (a changed layout, an implausible value): refused,
        with what was expected and what was found; nothing is kept.
    """
    spec = register.known_kinds()[candidate.kind]
    sha = register.sha256_of(staged)
    kinds = {k.kind for k in dataset.kinds}
    held = held_entries(kinds)  # every kind of the dataset: a mid-year workbook replaces that year's CSV too
    if any(e.sha256 == sha for e in held):
        raise AlreadyHeldError(f"{candidate.filename}: the same file is held already")
    try:
        period = _period(dataset.source, candidate, staged)
    except InputError as exc:
        raise _refused(candidate, exc) from None
    same = [e for e in held if (spec.one_per == "period" or e.kind == candidate.kind)
            and _same_content(spec, e, period, candidate.indicator)]
    newest = max((period_key(e.period)[0] for e in same), default=0)  # by the year each period ends
    if spec.one_per != "period" and period_key(period)[0] < newest:
        raise AlreadyHeldError(f"{candidate.filename}: its period ({period}) is older than the one held")
    model = next(iter(dataset.entries()), None)
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    name = clean_name(candidate.filename)
    edition = (f"{period} ({candidate.edition or 'edition'}" + (f", released {candidate.released}"
                                                                if candidate.released else "")
               + f", downloaded {now[:10]})").replace("; ", ", ")  # '; ' separates citations
    entry = register.RegisteredFile(
        path=f"{register.USER}{FOLDER}/{spec.folder}/{sha[:12]}-{name}", kind=candidate.kind,
        publisher=model.publisher if model else "", title=(candidate.title or dataset.title).replace("; ", ", "),
        edition=edition, licence=model.licence if model else "Open Government Licence v3.0", sha256=sha,
        period=period, url=candidate.page, download_url=candidate.url, downloaded_at=now,
        replaces=tuple(e.path for e in same))
    try:
        with register.trial(entry, staged):
            dataset.check()
    except InputError as exc:
        raise _refused(candidate, exc) from None
    target = register.file_path(entry.path)
    if not target.resolve().is_relative_to(register.user_register_path().parent.resolve()):
        raise InputError(f"the publisher's file name {candidate.filename!r} would be written outside data/user",
                         file=candidate.url, hint="nothing was written")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)  # a new name, the file first: an unregistered file in data/user is never read
    _record(entry)
    log.info("accepted %s (%s)", entry.path, entry.edition)
    return entry


def _refused(candidate: Candidate, exc: InputError) -> InputError:
    return InputError(f"the newer file {candidate.filename} was refused: {exc.problem}"
                      + (f" ({exc.where})" if exc.where else ""), file=candidate.url,
                      hint="the file does not read as this dataset's files do (a changed layout or an implausible "
                           "value); the edition held stays in use. Report it, with this message, so that the "
                           "dataset's reader can be updated")


def _record(entry: register.RegisteredFile) -> None:
    """Add ``entry`` to ``data/user/register.yaml`` (written whole, atomically; an entry with the same path is
    replaced)."""
    path = register.user_register_path()
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    files = [f for f in (doc or {}).get("files", []) if f.get("path") != entry.path]
    item = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(entry).items() if v not in ("", ())}
    files.append(item)
    header = ("# Files `cdp update` downloaded and accepted (the user overlay of data/register.yaml).\n"
              "# Written by cdp update; delete an entry (and its file) to go back to the edition it replaced.\n")
    write_atomic(path, header + yaml.safe_dump({"files": files}, sort_keys=False, allow_unicode=True))


def clean_name(name: str) -> str:
    """A file name safe to write (the publisher's name, without any folder or odd characters)."""
    name = re.sub(r"[^\w.\-]", "_", Path(name).name)
    if not name or name.startswith("."):
        raise InputError(f"the publisher's file name {name!r} cannot be used")
    return name
