"""Run the chapter notebooks for one or many CDPs and write each CDP's output folder atomically.

For each CDP, the notebook of every chapter it runs (the chapter registry, :mod:`cdp_analysis.chapters`,
filtered by the ``chapters:`` setting) is executed in report order through papermill's Python API, in one
kernel per process kept warm between notebooks and CDPs (:mod:`cdp_analysis.kernels`; no command-line
subprocesses). Each notebook receives only the parameters its
``parameters`` cell declares (papermill inspects it). Work goes into a temporary folder
``outputs/.<slug>.partial-<unique>/``::

    notebooks/<chapter>.ipynb   executed notebooks
    tables/*.csv                tidy tables written by the notebooks (docs/output-schema.md)
    fingertips/*.csv            the same rows under OHID Fingertips' own column headings
    figures/*.svg (*.png)       figures written by the notebooks (PNG with the figure_png setting)
    report.html                 one code-free report of all chapters
    run.json                    manifest (see :mod:`cdp_analysis.output.manifest`)
    run.log                     this run's log

Only when every notebook succeeded is the folder swapped into ``outputs/<slug>/`` (rename, then the
previous folder is removed). A failed run leaves the previous ``outputs/<slug>/`` untouched and keeps
what it produced in ``outputs/.failed/<slug>/`` for diagnosis. One CDP failing does not stop the others.

Faults: a run holds the CDP's lock (:mod:`cdp_analysis.locks`) so two runs of one CDP never race; SIGINT
and SIGTERM (:mod:`cdp_analysis.interrupts`) stop the kernel, move the partial folder to ``.failed/`` and
stop the batch; an OS error (read-only folder, full disk, permission) becomes one
:class:`~cdp_analysis.errors.CannotRunError` and stops the batch, earlier outputs intact; temporary folders
of runs whose process died are removed at the next run.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import math
import os
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import interrupts, jobs, kernels, locks, paths
from .areas import comparators
from .areas.partnerships import Partnership
from .data import datasets
from .errors import CannotRunError, InputError
from .files import remove_inside, replace_inside, write_atomic
from .output import consistency, manifest, provenance

log = logging.getLogger(__name__)

KERNEL_NAME = "cdp-analysis"


def _kill_kernels() -> None:
    """Stop every kernel this process started (see :func:`cdp_analysis.kernels.kill_all`)."""
    kernels.kill_all()


@dataclass
class RunResult:
    """What happened to one CDP's run."""

    slug: str
    status: str  # 'succeeded' | 'failed' | 'input error'
    seconds: float
    output_dir: Path
    message: str = ""
    notebooks: list[dict] = field(default_factory=list)


def check_inputs(cdps: list[Partnership] | None = None) -> None:
    """Load every dataset the chapters to be run read, once, before any kernel starts.

    The datasets come from the chapter registry (each chapter's ``datasets`` and those of the chapters whose
    results it reads), with the area lookups every run uses. A missing or malformed raw
    file is then reported once, as an :class:`InputError`, instead of failing every CDP's notebooks in
    turn (153 times under ``--all``). Parsed tables are cached, so this costs about a second.
    """
    from . import chapters
    from .areas import geography
    from .chapters import registry

    chosen = {c.name: c for cdp in cdps for c in cdp.chapters()} if cdps else chapters.all_chapters()
    found = datasets()
    for name in sorted({d for c in chosen.values() for d in registry.datasets_read(c)} | {"lookups"}):
        found[name].check()  # the area lookups are the areas layer's: every run uses them
    geography.areas()


def kernel_name() -> str:
    """The suite's Jupyter kernel if registered (``make setup`` does), else the default ``python3``."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    if KERNEL_NAME in specs:
        return KERNEL_NAME
    log.warning("kernel '%s' is not registered (run `make setup`); using 'python3'", KERNEL_NAME)
    return "python3"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _notebook_path(chapter) -> Path:
    path = chapter.notebook_path()
    if not path.is_file():
        raise InputError(f"chapter '{chapter.name}': notebook '{chapter.notebook}.ipynb' not found in "
                         f"{path.parent}",
                         file=path.parent, hint="restore it from git, or fix the chapter's 'notebook' name")
    return path


#: The run a log record belongs to (each run sets it in its own thread/context).
_CURRENT_RUN: contextvars.ContextVar[str | None] = contextvars.ContextVar("cdp_run", default=None)
_LEVEL_LOCK = threading.Lock()
_ACTIVE_RUNS = [0, []]  # number of runs capturing logs, saved logger levels


class _RunLog:
    """Write one run's log records (and only its own) to ``run.log``.

    The handler is attached to the package's and papermill's loggers but filters on a context variable
    set by this run, so CDPs run side by side (threads) each get their own ``run.log``. Logger levels
    are lowered to INFO while any run is active and restored when the last one ends.
    """

    _LOGGERS = ("cdp_analysis", "papermill")

    def __init__(self, path: Path, run_id: str):
        self.run_id = run_id
        self.handler = logging.FileHandler(path, encoding="utf-8")
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.handler.setLevel(logging.INFO)
        self.handler.addFilter(lambda record: _CURRENT_RUN.get() == run_id)

    def __enter__(self):
        self.token = _CURRENT_RUN.set(self.run_id)
        with _LEVEL_LOCK:
            loggers = [logging.getLogger(n) for n in self._LOGGERS]
            if _ACTIVE_RUNS[0] == 0:
                _ACTIVE_RUNS[1] = [lg.level for lg in loggers]
                for lg in loggers:
                    if lg.level == logging.NOTSET or lg.level > logging.INFO:
                        lg.setLevel(logging.INFO)
            _ACTIVE_RUNS[0] += 1
            for lg in loggers:
                lg.addHandler(self.handler)
        return self

    def __exit__(self, *exc):
        with _LEVEL_LOCK:
            loggers = [logging.getLogger(n) for n in self._LOGGERS]
            for lg in loggers:
                lg.removeHandler(self.handler)
            _ACTIVE_RUNS[0] -= 1
            if _ACTIVE_RUNS[0] == 0:
                for lg, level in zip(loggers, _ACTIVE_RUNS[1]):
                    lg.setLevel(level)
        _CURRENT_RUN.reset(self.token)
        self.handler.close()


def notebook_parameters(chapter, cdp: Partnership, output_dir: str) -> dict:
    """The parameters to inject into a chapter's notebook: only those its ``parameters`` cell declares."""
    import papermill as pm

    declared = set(pm.inspect_notebook(str(_notebook_path(chapter))))
    offered = chapter.parameters(cdp, output_dir=output_dir)
    ignored = sorted(declared - set(offered))
    if ignored:
        log.warning("%s declares parameter(s) %s that chapter '%s' does not provide; they keep their defaults",
                    chapter.notebook, ", ".join(ignored), chapter.name)
    return {k: v for k, v in offered.items() if k in declared}


def _execute(cdp: Partnership, work: Path, kernel: str, on_notebook, parameters: dict[str, dict],
             final: Path, *, kernel_log: Path, notebook_timeout: float | None = None,
             cdp_timeout: float | None = None) -> list[dict]:
    """Run each chapter's notebook into ``work`` in this process's warm kernel (:mod:`cdp_analysis.kernels`).

    ``parameters`` are each chapter's (:func:`notebook_parameters`), whose ``output_dir`` is replaced by ``work``
    while running (and by ``final`` in the saved notebook). A notebook may run ``notebook_timeout`` seconds,
    and all of them together ``cdp_timeout`` seconds (None: no limit); past either, its kernel is stopped
    and the notebook fails with the reason.
    """
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from .output.figures import PNG_ENV

    records = []
    (work / "notebooks").mkdir(parents=True, exist_ok=True)
    warm = kernels.warm_kernel(kernel, kernel_log)
    deadline = time.monotonic() + cdp_timeout if cdp_timeout else None
    for chapter in cdp.chapters():
        name = chapter.notebook
        source = _notebook_path(chapter)
        target = work / "notebooks" / source.name
        params = dict(parameters[chapter.name])
        if "output_dir" in params:
            params["output_dir"] = str(work)
        started = time.perf_counter()
        rec = {"name": name, "chapter": chapter.name, "status": "succeeded", "seconds": None, "error": None}
        limit = notebook_timeout
        if deadline is not None:
            limit = min(limit or math.inf, max(deadline - time.monotonic(), 0.001))
        try:
            log.info("%s: executing %s", cdp.slug, name)
            executed = warm.run(source, target, params, timeout=limit,
                                environment={PNG_ENV: "1" if cdp.settings.figure_png else ""})
            stabilise_notebook(target, source=source, work=work, final=final, executed=executed)
            missing = [o for o in chapter.outputs(png=cdp.settings.figure_png) if not (work / o).is_file()]
            # a table's Fingertips-headed copy is written with it: name the table only
            missing = [o for o in missing if o.replace("fingertips/", "tables/", 1) == o
                       or o.replace("fingertips/", "tables/", 1) not in missing]
            if missing:
                rec["status"] = "failed"
                rec["error"] = (f"the notebook did not write {', '.join(missing)}, which chapter '{chapter.name}' "
                                "declares (Chapter.tables / Chapter.figures)")
                log.error("%s: %s: %s", cdp.slug, name, rec["error"])
        except PapermillExecutionError as exc:
            stabilise_notebook(target, source=source, work=work, final=final)
            rec["status"] = "input error" if exc.ename == "InputError" else "failed"
            rec["error"] = f"{exc.ename}: {exc.evalue}"
            log.error("%s: %s failed in cell %s: %s", cdp.slug, name, exc.exec_count, rec["error"])
        except (kernels.NotebookTimeoutError, kernels.KernelStartError, DeadKernelError) as exc:
            stabilise_notebook(target, source=source, work=work, final=final)
            what = {"NotebookTimeoutError": "timed out", "KernelStartError": "kernel did not start",
                    "DeadKernelError": "kernel died"}[type(exc).__name__]
            detail = str(exc)
            if isinstance(exc, kernels.NotebookTimeoutError) and deadline is not None and (
                    notebook_timeout is None or limit < notebook_timeout):
                detail = (f"the CDP's time limit of {cdp_timeout:.0f} s for all its notebooks was reached "
                          "(--cdp-timeout); the notebook was stopped")
            elif isinstance(exc, kernels.NotebookTimeoutError):
                detail += " (--notebook-timeout)"
            rec["status"], rec["error"] = "failed", f"{what}: {detail}"
            log.error("%s: %s %s", cdp.slug, name, rec["error"])
        except BaseException:  # an interrupt or a crash: no kernel may outlive the run
            _kill_kernels()
            # the kernel client's pending tasks now fail with 'Kernel died' as they are collected: the stop was
            # ours and is reported once by `cdp`, so their tracebacks are not shown
            for logger in ("asyncio", "papermill", "nbclient"):
                logging.getLogger(logger).setLevel(logging.CRITICAL)
            raise
        rec["seconds"] = round(time.perf_counter() - started, 2)
        records.append(rec)
        on_notebook(cdp, name, rec)
        interrupts.check()  # a stop asked for while the kernel ran, even if swallowed there
        if rec["status"] != "succeeded":
            break
    return records


_ADDRESS = re.compile(r" at 0x[0-9a-f]{6,16}\b")
#: Cell metadata that records when and how long, not what: dropped so that reruns give identical notebooks.
_TIMING_KEYS = ("execution",)
_PAPERMILL_TIMING = ("duration", "start_time", "end_time")


def stabilise_notebook(path: Path, *, source: Path, work: Path, final: Path, executed=None) -> None:
    """Make an executed notebook depend only on its inputs, so reruns give byte-identical files.

    ``path`` is rewritten; ``executed`` is the notebook papermill wrote there (the object it returned), to save
    reading it back, or None to read it (a failed notebook, written by papermill with its error cells).

    * times (papermill's start/end/duration per cell and notebook, the kernel's ``execution`` stamps) are
      removed — the run's times are in ``run.json`` and ``run.log``;
    * the temporary folder the notebook ran in is replaced by the CDP's output folder, in the parameters,
      papermill's metadata and any output, and paths are given relative to the project where they point
      into it;
    * each cell keeps the id it has in ``notebooks/`` (the injected-parameters cell gets a fixed id);
    * execution counts run 1, 2, … over the executed cells, as in a new kernel (a warm kernel,
      :mod:`cdp_analysis.kernels`, counts on from the previous notebook);
    * object addresses in text outputs (``<… at 0x7f…>``) are blanked.
    """
    import nbformat

    if not path.is_file():
        return
    nb = nbformat.read(path, as_version=4) if executed is None else executed
    source_ids = _cell_ids(source, source.stat().st_mtime_ns)
    meta = nb.metadata.get("papermill", {})
    for key in _PAPERMILL_TIMING:
        meta.pop(key, None)
    if "input_path" in meta:
        meta["input_path"] = f"notebooks/{source.name}"
    if "output_path" in meta:
        meta["output_path"] = f"notebooks/{path.name}"
    ids = iter(source_ids)
    counts = iter(range(1, len(nb.cells) + 1))
    for cell in nb.cells:
        if cell.get("execution_count") is not None:  # as a new kernel numbers them (a warm one counts on)
            cell["execution_count"] = next(counts)
            for out in cell.get("outputs", []):
                if "execution_count" in out:
                    out["execution_count"] = cell["execution_count"]
        for key in _TIMING_KEYS:
            cell.metadata.pop(key, None)
        for key in _PAPERMILL_TIMING:
            cell.metadata.get("papermill", {}).pop(key, None)
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            cell["id"] = "injected-parameters"
        elif "papermill-error-cell-tag" in tags:  # papermill's note on a failed notebook: not in the source
            cell["id"] = "papermill-error-" + ("message" if cell is nb.cells[0] else "anchor")
        else:
            cell["id"] = next(ids, cell.get("id"))
    text = nbformat.writes(nb).replace(str(work), str(final))
    text = _ADDRESS.sub(" at 0x…", text)
    if not text.endswith("\n"):
        text += "\n"
    write_atomic(path, text)


@functools.lru_cache(maxsize=32)
def _cell_ids(source: Path, mtime_ns: int) -> tuple:
    """The ids of a source notebook's cells (read once per edit of the file: ``mtime_ns`` is in the key)."""
    import nbformat

    return tuple(c.get("id") for c in nbformat.read(source, as_version=4).cells)


def run_one(cdp: Partnership, *, outputs_root: Path | None = None, kernel: str | None = None,
            on_notebook=lambda *a: None, force: bool = False, notebook_timeout: float | None = None,
            cdp_timeout: float | None = None) -> RunResult:
    """Run every notebook for one CDP and swap the result into ``outputs/<slug>/`` if all succeeded.

    The notebooks run one after another in this process's warm kernel (:mod:`cdp_analysis.kernels`); a
    notebook may take ``notebook_timeout`` seconds and the CDP's notebooks together ``cdp_timeout`` seconds
    (None: no limit), after which it fails with a timeout.

    Unless ``force``, a CDP whose outputs are up to date (same job key, every output present and unchanged:
    :mod:`cdp_analysis.jobs`) is not run again: its result has status 'up to date'.

    Raises
    ------
    CannotRunError
        If the CDP is being run by another process, or the system refused a write (read-only folder,
        full disk, permission); the previous ``outputs/<slug>/`` is unchanged.
    Interrupted
        On SIGINT/SIGTERM, after stopping the kernel and moving the partial folder to ``.failed/<slug>/``.
    """
    root = Path(outputs_root or paths.outputs_dir()).resolve()
    folder = paths.inside(root, root / paths.check_slug(cdp.slug))  # the slug is checked again: nothing outside
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CannotRunError.from_os_error(exc, doing="creating the output folder") from None
    with locks.CdpLock(root, cdp.slug):
        key = jobs.job_key(cdp)
        if not force and jobs.up_to_date(cdp, folder, key):
            log.info("%s: outputs up to date (job key %s…); not run again", cdp.slug, key[:12])
            return RunResult(cdp.slug, jobs.UP_TO_DATE, 0.0, root / cdp.slug,
                             "inputs, code and outputs unchanged since the last run (--force runs it again)")
        return _run_locked(cdp, root, kernel, on_notebook, key, timeouts={"notebook_timeout": notebook_timeout,
                                                                          "cdp_timeout": cdp_timeout})


def _run_locked(cdp: Partnership, root: Path, kernel: str | None, on_notebook, key: str = "",
                timeouts: dict | None = None) -> RunResult:
    final = paths.inside(root, root / cdp.slug)
    try:
        work = paths.inside(root, tempfile.mkdtemp(prefix=f".{cdp.slug}.partial-{os.getpid()}-", dir=root))
        os.chmod(work, 0o755)
    except OSError as exc:
        raise CannotRunError.from_os_error(exc, doing=f"starting the run of {cdp.slug}") from None
    started_at, t0 = _now(), time.perf_counter()
    cdp_info = {"slug": cdp.slug, "name": cdp.name, "members": list(cdp.members),
                "member_names": list(cdp.member_names), "defined_by": cdp.source}
    params: dict = {}
    outputs: dict = {}
    areas_from: list = []
    stop: BaseException | None = None  # an interrupt, a crash or a system problem: ends the batch too
    records, status, message = [], "failed", ""
    checked: dict = {}
    try:
        with _RunLog(work / "run.log", run_id=work.name):
            log.info("run of %s (%s) started", cdp.slug, ", ".join(cdp.members))
            try:
                params = {c.name: notebook_parameters(c, cdp, str(final)) for c in cdp.chapters()}
                records = _execute(cdp, work, kernel or kernel_name(), on_notebook, params, final,
                                   kernel_log=kernels.stderr_log(), **(timeouts or {}))
                outputs = provenance.collect(work, comparator_set=comparators.described(cdp))
                areas_from = datasets()["lookups"].entries()
                failed = [r for r in records if r["status"] != "succeeded"]
                if failed:
                    status, message = failed[0]["status"], f"{failed[0]['name']}: {failed[0]['error']}"
                else:
                    from .output import report  # nbformat's import costs seconds: only when a CDP is run

                    report.write_html([work / "notebooks" / f"{c.notebook}.ipynb" for c in cdp.chapters()],
                                      work / "report.html", title=f"Substance misuse needs assessment: {cdp.name}",
                                      subtitle=_front_matter(cdp, outputs, started_at),
                                      appendix=provenance.sources_markdown(outputs, areas_from))
                    # one value per metric and period everywhere, before anything is published
                    checked = consistency.check(work, [r for c in cdp.chapters() for r in c.restates])
                    status = "succeeded"
            except consistency.InconsistentOutputs as exc:
                status, message = "failed", str(exc)
                log.error("%s: %s", cdp.slug, exc)
            except InputError as exc:
                status, message = "input error", exc.message
                log.error("%s: %s", cdp.slug, exc.message)
                stop = exc if isinstance(exc, CannotRunError) else None
            except OSError as exc:
                stop = CannotRunError.from_os_error(exc, doing=f"writing the outputs of {cdp.slug}")
                status, message = "failed", stop.problem
                log.error("%s: %s", cdp.slug, stop.message)
            except Exception as exc:  # keep going with other CDPs; the log and .failed/ keep the detail
                status, message = "failed", f"{type(exc).__name__}: {exc}"
                log.exception("%s: run failed", cdp.slug)
            except BaseException as exc:  # Interrupted, SystemExit …: clean up, then stop the batch
                status = "interrupted"
                message = str(exc) if isinstance(exc, interrupts.Interrupted) else f"{type(exc).__name__}: {exc}"
                stop = exc
                log.error("%s: run %s", cdp.slug, message)
            seconds = time.perf_counter() - t0
            log.info("run of %s %s in %.1f s", cdp.slug, status, seconds)
        try:
            manifest.write(manifest.build(cdp=cdp_info, parameters=params, notebooks=records, status=status,
                                          started=started_at, finished=_now(), seconds=seconds,
                                          output_dir=str(final if status == "succeeded" else root / ".failed" / cdp.slug),
                                          outputs=outputs, job_key=key, consistency=checked,
                                          data_editions=provenance.data_editions(outputs) if outputs else {},
                                          area_definitions={e.path: {"edition": e.edition, "sha256": e.sha256}
                                                            for e in areas_from}), work / "run.json")
        except OSError as exc:
            problem = CannotRunError.from_os_error(exc, doing=f"writing the manifest of {cdp.slug}")
            stop = stop or problem
            status, message = "failed", problem.problem
        if status == "succeeded":
            try:
                _swap_in(work, final)
            except OSError as exc:
                stop = CannotRunError.from_os_error(exc, doing=f"putting the outputs of {cdp.slug} in place")
                status, message = "failed", stop.problem
        out = final if status == "succeeded" else _keep_failed(work, root, cdp.slug)
    except BaseException:
        _keep_failed(work, root, cdp.slug)  # never leave a partial folder behind
        raise
    result = RunResult(cdp.slug, status, seconds, out, message, records)
    if stop is not None:
        stop.result = result  # the batch's summary lists it
        raise stop
    return result


def _keep_failed(work: Path, root: Path, slug: str) -> Path:
    """Move a failed attempt to ``.failed/<slug>/`` (replacing an older one); delete it if even that fails.

    Every path is checked to lie inside ``root`` first (:func:`cdp_analysis.paths.inside`): a ``.failed`` that is
    a symbolic link is replaced by a folder, never followed.
    """
    failed = paths.inside(root, root / ".failed")
    out = failed / paths.check_slug(slug)
    if not work.exists():
        return out
    try:
        if failed.is_symlink() or (failed.exists() and not failed.is_dir()):
            remove_inside(root, failed)
        failed.mkdir(exist_ok=True)
        remove_inside(failed, out)
        replace_inside(root, work, out)
    except OSError as exc:
        log.warning("could not keep the failed attempt of %s in %s (%s); removing it", slug, out, exc)
        try:
            remove_inside(root, work)
        except OSError:
            pass
    return out


def _front_matter(cdp: Partnership, outputs: dict, started_at: str) -> str:
    """What the report covers: the chapters that ran, the CDP and its members, when and by which version it
    was produced, and the editions of the data it used.

    The CDP's name, its members' names and the local file names come from the params file and the analyst's
    folder: they are escaped as Markdown (:func:`cdp_analysis.output.escape.markdown_text`), so they are shown
    as written and never read as Markdown or HTML.
    """
    from . import __version__
    from .output.escape import markdown_text as md
    from .output.manifest import git_state

    members = ", ".join(f"{md(n)} ({md(c)})" for n, c in zip(cdp.member_names, cdp.members))
    chapters = "; ".join(f"{c.number}. {c.title}" for c in cdp.chapters())
    commit = git_state().get("commit")
    produced = datetime.fromisoformat(started_at).strftime("%-d %B %Y")
    local = sorted({c for o in outputs.values() for c in o.get("unregistered", []) if c})
    banner = ("**MADE-UP EXAMPLE DATA: the local figures in this report are made up to show how the suite works. "
              "They are not real and must not be used or quoted.**\n\n"
              if any("MADE-UP" in c for c in local) else "")
    data = (", from published data and the partnership's own local data ("
            + "; ".join(md(c) for c in local) + "), small local numbers suppressed" if local
            else ", from published data only")
    summary = ("**[The one-page summary for the board](summary.html)**: what most needs action, the treatment "
               "places needed and a figure for each outcome.\n\n"
               if any("summary.html" in c.pages for c in cdp.chapters()) else "")
    return (banner + f"Combating Drugs Partnership: **{md(cdp.name)}** — {members}.\n\n" + summary
            + f"This report covers: {chapters}.\n\n"
            f"Produced on {produced} by cdp-analysis {__version__}"
            + (f" (commit {commit[:7]})" if commit else "") + data + ".\n\n"
            f"Data editions: {provenance.editions_text(outputs)}. The last section, \"Where each number comes "
            "from\", names every file used with its publisher, edition and licence; the tables behind every figure "
            "are in `tables/` (the same rows with Fingertips' column headings in `fingertips/`), and `run.json` "
            "records the data, versions and parameters.")


def _swap_in(work: Path, final: Path) -> None:
    """Replace ``final`` by ``work`` with renames only (the previous folder exists until the new one is in place).

    The caller holds the CDP's lock, so no other run swaps the same folder meanwhile. Both lie inside the output
    root (checked). If ``final`` is a symbolic link (an analyst linked a CDP's folder elsewhere), the link is
    replaced by the new folder and then removed; the folder it pointed to is left as it was, never deleted.
    """
    root = final.parent
    old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-{os.getpid()}-", dir=root))
    old.rmdir()  # a unique name, free for the rename below
    linked = final.is_symlink()
    if linked:
        log.warning("%s was a link to %s: it is replaced by a folder; the folder it pointed to is left as it was",
                    final, os.path.realpath(final))
    if final.exists() or linked:
        replace_inside(root, final, old)
    try:
        replace_inside(root, work, final)
    except OSError:
        if old.exists() or old.is_symlink():
            replace_inside(root, old, final)
        raise
    try:
        remove_inside(root, old)
    except OSError as exc:
        log.warning("could not remove the previous outputs %s: %s", old, exc)


def run_many(cdps: list[Partnership], *, outputs_root: Path | None = None, stream=None,
             force: bool = False, notebook_timeout: float | None = None,
             cdp_timeout: float | None = None) -> list[RunResult]:
    """Run several CDPs in turn, in this process, with a progress bar (terminal) or plain lines (otherwise).

    An :class:`~cdp_analysis.interrupts.Interrupted` or :class:`~cdp_analysis.errors.CannotRunError` ends the
    batch; the exception carries ``results``, the CDPs done so far (the interrupted one last).
    """
    stream = stream or sys.stderr
    kernel = kernel_name()
    total = sum(len(c.chapters()) for c in cdps)
    interactive = hasattr(stream, "isatty") and stream.isatty()
    bar = None
    if interactive:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="notebook", file=stream, dynamic_ncols=True)
    done = [0]

    def on_notebook(cdp, name, rec):
        done[0] += 1
        line = f"[{done[0]}/{total}] {cdp.slug}: {name} {rec['status']} ({rec['seconds']:.1f} s)"
        if bar is not None:
            bar.set_postfix_str(f"{cdp.slug}: {name}")
            bar.update(1)
        else:
            print(line, file=stream, flush=True)

    results = []
    locks.clean_stale(Path(outputs_root or paths.outputs_dir()))
    try:
        with interrupts.handled():
            for cdp in cdps:
                try:
                    interrupts.check()  # a stop asked for during the last CDP, even if swallowed there
                    res = run_one(cdp, outputs_root=outputs_root, kernel=kernel, on_notebook=on_notebook, force=force,
                                  notebook_timeout=notebook_timeout, cdp_timeout=cdp_timeout)
                except BaseException as exc:  # an interrupt or a system problem ends the batch
                    if getattr(exc, "result", None) is not None:
                        results.append(exc.result)
                    exc.results = results
                    raise
                if res.status == jobs.UP_TO_DATE:
                    done[0] += len(cdp.chapters())
                    if bar is not None:
                        bar.update(len(cdp.chapters()))
                    else:
                        print(f"[{done[0]}/{total}] {cdp.slug}: up to date, not run again", file=stream, flush=True)
                elif res.status != "succeeded" and bar is None:
                    print(f"  {cdp.slug} {res.status}: {res.message}", file=stream, flush=True)
                results.append(res)
    finally:
        if bar is not None:
            bar.close()
    return results


#: A batch larger than this is summarised by counts (and its failures), not a line per CDP.
SUMMARY_LINES = 12


def summary(results: list[RunResult]) -> str:
    """A plain-text summary of a batch of runs: a line per CDP (or counts for a large batch), then a table of
    the failures (CDP, notebook, error, path to the partial notebook)."""
    done = ("succeeded", jobs.UP_TO_DATE)
    ok = sum(r.status in done for r in results)
    fresh = sum(r.status == jobs.UP_TO_DATE for r in results)
    head = f"{ok} of {len(results)} CDP(s) succeeded" + (f" ({fresh} up to date, not run again)" if fresh else "")
    lines = [head]
    if len(results) <= SUMMARY_LINES:
        for r in results:
            lines.append(f"  {r.slug:<36} {r.status:<12} {r.seconds:6.1f} s  {_relative(r.output_dir)}")
            if r.message:
                lines.append(f"      {r.message.splitlines()[0]}")
    else:
        counts: dict[str, int] = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        lines.append("  " + ", ".join(f"{n} {status}" for status, n in counts.items()))
    table = failure_table(results)
    if table:
        lines += ["Not done (`cdp run --only-failed` runs these again):", table]
    reports = [r.output_dir / "report.html" for r in results if r.status in done]
    if len(reports) == 1:
        lines.append(f"Report: {reports[0]}")
    elif reports:
        lines.append(f"Reports: {reports[0].parent.parent}/<cdp>/report.html (`cdp open <cdp>` opens one)")
    return "\n".join(lines)


def _relative(path: Path) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def failed_notebook(result: RunResult) -> tuple[str | None, str | None, Path | None]:
    """The notebook a failed run stopped at, its error, and the partial executed notebook if it was kept."""
    failed = next((n for n in result.notebooks if n.get("status") != "succeeded"), None)
    if failed is None:
        return None, None, None
    partial = result.output_dir / "notebooks" / f"{failed['name']}.ipynb"
    return failed["name"], failed.get("error"), partial if partial.is_file() else None


def failure_table(results: list[RunResult]) -> str:
    """The runs not done as a plain-text table: CDP, notebook, error, partial notebook ('' if none)."""
    rows = []
    for r in results:
        if r.status in ("succeeded", jobs.UP_TO_DATE):
            continue
        name, error, partial = failed_notebook(r)
        error = (error or r.message or r.status).splitlines()[0]
        rows.append((r.slug, name or "-", error if len(error) <= 110 else error[:109] + "…",
                     _relative(partial) if partial is not None else "-"))
    if not rows:
        return ""
    head = ("CDP", "notebook", "error", "partial notebook")
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    fmt = "  " + "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head).rstrip(), *(fmt.format(*row).rstrip() for row in rows)])
