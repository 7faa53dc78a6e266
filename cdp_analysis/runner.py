"""Run the chapter notebooks for one or many CDPs and write each CDP's output folder atomically.

For each CDP, every notebook in its ``notebooks`` setting is executed in order through papermill's
Python API (one kernel per notebook, no command-line subprocesses), into a temporary folder
``outputs/.<slug>.partial-<pid>/``::

    notebooks/<chapter>.ipynb   executed notebooks
    tables/*.csv                tidy tables written by the notebooks
    figures/*.png               figures written by the notebooks
    report.html                 one code-free report of all chapters
    run.json                    manifest (see :mod:`cdp_analysis.manifest`)
    run.log                     this run's log

Only when every notebook succeeded is the folder swapped into ``outputs/<slug>/`` (rename, then the
previous folder is removed). A failed run leaves the previous ``outputs/<slug>/`` untouched and keeps
what it produced in ``outputs/.failed/<slug>/`` for diagnosis. One CDP failing does not stop the others.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import manifest, paths, report
from .errors import InputError
from .partnerships import Partnership

log = logging.getLogger(__name__)

KERNEL_NAME = "cdp-analysis"


def _quiet_kernel_manager(stderr_path: Path):
    """A kernel manager class whose kernel process writes its own stderr to ``stderr_path`` (``run.log``)."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            self._stderr_file = open(stderr_path, "a", encoding="utf-8")
            kw["stderr"] = self._stderr_file
            try:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                self._stderr_file.close()  # the child holds its own copy of the descriptor

    return QuietKernelManager


@dataclass
class RunResult:
    """What happened to one CDP's run."""

    slug: str
    status: str  # 'succeeded' | 'failed' | 'input error'
    seconds: float
    output_dir: Path
    message: str = ""
    notebooks: list[dict] = field(default_factory=list)


def check_inputs() -> None:
    """Load every dataset the chapters use, once, before any kernel starts.

    A missing or malformed raw file is then reported once, as an :class:`InputError`, instead of failing
    every CDP's notebooks in turn (153 times under ``--all``). Parsed tables are cached, so this costs
    about a second.
    """
    from . import deprivation, geography, neighbours, population, register

    for kind in register.KIND_PATTERNS:
        if kind not in register.OPTIONAL_KINDS:
            register.files_of_kind(kind)
    geography.areas()
    population.estimates()
    deprivation.imd_scores()
    neighbours.distances()
    neighbours.ranks()


def kernel_name() -> str:
    """The suite's Jupyter kernel if registered (``make setup`` does), else the default ``python3``."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    if KERNEL_NAME in specs:
        return KERNEL_NAME
    log.warning("kernel '%s' is not registered (run `make setup`); using 'python3'", KERNEL_NAME)
    return "python3"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _notebook_path(name: str) -> Path:
    path = paths.notebooks_dir() / f"{name}.ipynb"
    if not path.is_file():
        available = sorted(p.stem for p in paths.notebooks_dir().glob("*.ipynb"))
        from .errors import did_you_mean

        raise InputError(f"notebook '{name}' not found in notebooks/", where="parameter 'notebooks'",
                         hint=did_you_mean(name, available) or f"available: {', '.join(available)}")
    return path


class _LogCapture:
    """Attach a file handler to the package's and papermill's loggers for the duration of one CDP."""

    def __init__(self, path: Path):
        self.handler = logging.FileHandler(path, encoding="utf-8")
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.handler.setLevel(logging.INFO)
        self.loggers = [logging.getLogger("cdp_analysis"), logging.getLogger("papermill")]
        self.levels = [lg.level for lg in self.loggers]

    def __enter__(self):
        for lg in self.loggers:
            lg.addHandler(self.handler)
            if lg.level == logging.NOTSET or lg.level > logging.INFO:
                lg.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc):
        for lg, level in zip(self.loggers, self.levels):
            lg.removeHandler(self.handler)
            lg.setLevel(level)
        self.handler.close()


def _execute(cdp: Partnership, work: Path, kernel: str, on_notebook) -> list[dict]:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    records = []
    (work / "notebooks").mkdir(parents=True, exist_ok=True)
    params = cdp.notebook_parameters(output_dir=str(work))
    for name in cdp.settings.notebooks:
        source = _notebook_path(name)
        started = time.perf_counter()
        rec = {"name": name, "status": "succeeded", "seconds": None, "error": None}
        try:
            log.info("%s: executing %s", cdp.slug, name)
            pm.execute_notebook(str(source), str(work / "notebooks" / source.name), parameters=params,
                                kernel_name=kernel, cwd=str(paths.notebooks_dir()), progress_bar=False,
                                log_output=False, request_save_on_cell_execute=False,
                                kernel_manager_class=_quiet_kernel_manager(work / "run.log"))
        except PapermillExecutionError as exc:
            rec["status"] = "input error" if exc.ename == "InputError" else "failed"
            rec["error"] = f"{exc.ename}: {exc.evalue}"
            log.error("%s: %s failed in cell %s: %s", cdp.slug, name, exc.exec_count, rec["error"])
        rec["seconds"] = round(time.perf_counter() - started, 2)
        records.append(rec)
        on_notebook(cdp, name, rec)
        if rec["status"] != "succeeded":
            break
    return records


def run_one(cdp: Partnership, *, outputs_root: Path | None = None, kernel: str | None = None,
            on_notebook=lambda *a: None) -> RunResult:
    """Run every notebook for one CDP and swap the result into ``outputs/<slug>/`` if all succeeded."""
    root = Path(outputs_root or paths.outputs_dir())
    root.mkdir(parents=True, exist_ok=True)
    final = root / cdp.slug
    work = root / f".{cdp.slug}.partial-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started_at, t0 = _now(), time.perf_counter()
    params = cdp.notebook_parameters(output_dir=f"outputs/{cdp.slug}")
    cdp_info = {"slug": cdp.slug, "name": cdp.name, "members": list(cdp.members),
                "member_names": list(cdp.member_names), "defined_by": cdp.source}
    with _LogCapture(work / "run.log"):
        log.info("run of %s (%s) started", cdp.slug, ", ".join(cdp.members))
        records, status, message = [], "failed", ""
        try:
            records = _execute(cdp, work, kernel or kernel_name(), on_notebook)
            failed = [r for r in records if r["status"] != "succeeded"]
            if failed:
                status, message = failed[0]["status"], f"{failed[0]['name']}: {failed[0]['error']}"
            else:
                report.write_html([work / "notebooks" / f"{n}.ipynb" for n in cdp.settings.notebooks],
                                  work / "report.html", title=f"Substance misuse needs assessment: {cdp.name}",
                                  subtitle=_subtitle(cdp))
                status = "succeeded"
        except InputError as exc:
            status, message = "input error", exc.message
            log.error("%s: %s", cdp.slug, exc.message)
        except Exception as exc:  # keep going with other CDPs; the log and .failed/ keep the detail
            status, message = "failed", f"{type(exc).__name__}: {exc}"
            log.exception("%s: run failed", cdp.slug)
        seconds = time.perf_counter() - t0
        log.info("run of %s %s in %.1f s", cdp.slug, status, seconds)
    manifest.write(manifest.build(cdp=cdp_info, parameters=params, notebooks=records, status=status,
                                  started=started_at, finished=_now(), seconds=seconds), work / "run.json")
    if status == "succeeded":
        _swap_in(work, final)
        out = final
    else:
        out = root / ".failed" / cdp.slug
        shutil.rmtree(out, ignore_errors=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        os.replace(work, out)
    return RunResult(cdp.slug, status, seconds, out, message, records)


def _subtitle(cdp: Partnership) -> str:
    members = ", ".join(f"{n} ({c})" for n, c in zip(cdp.member_names, cdp.members))
    return (f"Combating Drugs Partnership: **{cdp.name}** — {members}.\n\n"
            "Produced by cdp-analysis from published ONS, OHID and MHCLG data (Open Government Licence). "
            "Tables behind every figure are in `tables/`; `run.json` records the data, versions and parameters.")


def _swap_in(work: Path, final: Path) -> None:
    """Replace ``final`` by ``work`` with renames only (the previous folder exists until the new one is in place)."""
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        os.replace(final, old)
    try:
        os.replace(work, final)
    except OSError:
        if old.exists():
            os.replace(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def run_many(cdps: list[Partnership], *, outputs_root: Path | None = None, stream=None) -> list[RunResult]:
    """Run several CDPs in turn with a progress bar (terminal) or plain lines (otherwise)."""
    stream = stream or sys.stderr
    kernel = kernel_name()
    total = sum(len(c.settings.notebooks) for c in cdps)
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
    try:
        for cdp in cdps:
            res = run_one(cdp, outputs_root=outputs_root, kernel=kernel, on_notebook=on_notebook)
            if res.status != "succeeded" and bar is None:
                print(f"  {cdp.slug} {res.status}: {res.message}", file=stream, flush=True)
            results.append(res)
    finally:
        if bar is not None:
            bar.close()
    return results


def summary(results: list[RunResult]) -> str:
    """A short plain-text summary of a batch of runs."""
    lines = []
    for r in results:
        where = r.output_dir
        try:
            where = where.relative_to(Path.cwd())
        except ValueError:
            pass
        lines.append(f"  {r.slug:<36} {r.status:<12} {r.seconds:6.1f} s  {where}")
        if r.message:
            lines.append(f"      {r.message.splitlines()[0]}")
    ok = sum(r.status == "succeeded" for r in results)
    return f"{ok} of {len(results)} CDP(s) succeeded\n" + "\n".join(lines)
