"""``cdp update``: bring the newest published edition of every dataset that has a source, checked before use.

The only command besides ``cdp fetch`` that needs the internet; everything else stays offline. For each dataset
whose module declares a source (:mod:`cdp_analysis.data.sources`), the publisher is asked for its newest
edition(s) (:mod:`.publishers`); each file not held is downloaded into ``data/user/.staging``
(:mod:`cdp_analysis.data.web`),
read by the dataset's own loader and plausibility rules, and only then added to the user overlay
(:mod:`.accept`). Runs use the newest accepted edition of each dataset (:func:`cdp_analysis.data.register.files_of_kind`).

``--dry-run`` keeps nothing and lists what is newer than what is held: an ONS file is judged by its name on the
edition's page (nothing downloaded); a Fingertips export, whose page does not say what it holds, is downloaded to
compare and then deleted.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from ..data import datasets, register
from ..data.sources import FingertipsIndicators, GovUkPublication, OnsDataset
from ..data.web import Client
from ..errors import CannotRunError, InputError
from . import accept, publishers

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What ``cdp update`` did with one file a publisher offers."""

    dataset: str
    file: str
    status: str  # 'accepted', 'newer' (dry run), 'held', 'refused'
    message: str


def sources(names: list[str] | None = None) -> dict[str, register.Dataset]:
    """The datasets with a source, by name; ``names`` selects some (an unknown name is an error)."""
    found = {n: d for n, d in datasets().items() if d.source is not None}
    for name in names or []:
        if name not in found:
            raise InputError(f"no dataset called {name!r} can be updated", where="--dataset",
                             hint=f"use one of: {', '.join(sorted(found))}")
    return {n: d for n, d in found.items() if not names or n in names}


def _held_name(candidate: publishers.Candidate) -> bool:
    """The publisher's file is held under its own name already (in the bundle, or downloaded: '<sha>-<name>')."""
    name = accept.clean_name(candidate.filename)
    return any(e.path.rsplit("/", 1)[-1] in (name, f"{e.sha256[:12]}-{name}")
               for e in accept.held_entries(candidate.kind))


def update(names: list[str] | None = None, *, dry_run: bool = False, mirror: str | None = None,
           say: Callable[[str], None] = print) -> list[Outcome]:
    """Ask each dataset's publisher for newer editions and accept those that read correctly.

    Parameters
    ----------
    names : list of str, optional
        Only these datasets (``--dataset``).
    dry_run : bool
        List what is newer; keep nothing.
    mirror : str, optional
        A base address standing in for the publishers' hosts (:class:`.http.Client`).
    say : callable
        Where progress lines go.
    """
    client = Client(mirror)
    out = []
    for name, ds in sources(names).items():
        publisher = {OnsDataset: "ONS", FingertipsIndicators: "Fingertips", GovUkPublication: "GOV.UK"}.get(
            type(ds.source), "the publisher")
        say(f"{name}: asking {publisher} for its newest edition …")
        try:
            offered = publishers.candidates(name, ds.source, client)
        except CannotRunError:
            raise  # no connection: the same for every dataset
        except InputError as exc:  # this publisher's page moved or changed: say so, go on with the others
            out.append(Outcome(name, "", "refused", exc.message))
            say(f"  {name}: the publisher's page could not be read (why: below)")
            continue
        for c in offered:
            out.append(_one(ds, c, client, dry_run=dry_run, say=say))
    return out


def _one(ds: register.Dataset, c: publishers.Candidate, client: Client, *, dry_run: bool,
         say: Callable[[str], None]) -> Outcome:
    """Download, check and keep (or, in a dry run, only assess) one file a publisher offers."""
    named = isinstance(ds.source, (OnsDataset, GovUkPublication))  # the page names its files
    if named and _held_name(c):
        say(f"  {c.filename}: held already")
        return Outcome(ds.name, c.filename, "held", "held already")
    if dry_run and named:  # named on the page: nothing to download to tell
        say(f"  {c.filename}: newer than what is held ({c.edition or 'edition'}, released {c.released}; "
            "not downloaded: dry run)")
        return Outcome(ds.name, c.filename, "newer", f"{c.edition}, released {c.released}")
    folder = accept.staging_dir() / ds.name
    try:
        staged_tmp = client.download(c.url, folder, progress=_progress(say, c.filename))
        staged = staged_tmp.with_name(accept.clean_name(c.filename))
        staged_tmp.replace(staged)
        if dry_run:  # a Fingertips export says what it holds only once downloaded: compare, keep nothing
            newer = not any(e.sha256 == register.sha256_of(staged)
                            for e in accept.held_entries({k.kind for k in ds.kinds}))
            say(f"  {c.filename}: " + ("newer than what is held (dry run: not kept)" if newer else "held already"))
            return Outcome(ds.name, c.filename, "newer" if newer else "held",
                           f"{c.edition}, released {c.released}" if newer else "held already")
        entry = accept.accept(ds, c, staged)
        say(f"  {c.filename}: accepted as {entry.path} ({entry.edition})")
        return Outcome(ds.name, c.filename, "accepted", entry.edition)
    except accept.AlreadyHeldError as exc:
        say(f"  {exc}")
        return Outcome(ds.name, c.filename, "held", str(exc))
    except CannotRunError:
        raise
    except InputError as exc:
        say(f"  {c.filename}: refused (why: below)")
        return Outcome(ds.name, c.filename, "refused", exc.message)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if accept.staging_dir().is_dir() and not any(accept.staging_dir().iterdir()):
            accept.staging_dir().rmdir()


def _progress(say: Callable[[str], None], name: str) -> Callable[[int, int | None], None]:
    """A progress callback that reports each further quarter of a download (each 5 MB when its size is not
    announced)."""
    step = {"last": 0}

    def report(done: int, total: int | None) -> None:
        mark = int(4 * done / total) if total else done // 5_000_000
        if mark > step["last"]:
            step["last"] = mark
            say(f"  {name}: " + (f"{25 * mark}% of {total / 1e6:.1f} MB" if total else f"{done / 1e6:.0f} MB"))

    return report
