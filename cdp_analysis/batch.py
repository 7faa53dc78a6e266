"""Run many CDPs at once: in parallel on this machine's cores, or on a Dask cluster.

``cdp run --all`` (or any list of CDPs) is a **batch**. Each CDP is one job, :func:`run_job`, which runs its
notebooks with :func:`cdp_analysis.runner.run_one` in the worker's warm kernel (:mod:`cdp_analysis.kernels`:
one kernel per worker, reused across the worker's CDPs, so data and all-area tables are loaded and computed once
per worker). Where the jobs run:

``jobs=1``
    in this process, one CDP after another (:func:`cdp_analysis.runner.run_many`);
``jobs=N`` (default: the number of cores)
    in N worker processes on this machine (``concurrent.futures.ProcessPoolExecutor``, started with *spawn*);
``scheduler="tcp://host:port"``
    on an existing Dask distributed cluster (the workers need this project at the same path and its
    environment: docs/batch.md); ``dask=True`` without an address starts a ``LocalCluster`` of ``jobs``
    single-threaded worker processes here.

Whatever the engine: a CDP that fails does not stop the others; each notebook may run ``notebook_timeout``
seconds and each CDP ``cdp_timeout`` seconds; a kernel that does not start is tried again
(:data:`cdp_analysis.kernels.START_ATTEMPTS`). An interrupt (Ctrl-C, SIGTERM) or a problem that stops every
run (:class:`~cdp_analysis.errors.CannotRunError`: a read-only or full disk) cancels the CDPs not started, lets
those running clean up (their partial folders go to ``.failed/``) and is raised with ``results``, the CDPs that
finished. After a batch, :func:`record` merges each CDP's outcome into ``outputs/batch.json``, from which
``cdp run --only-failed`` picks the CDPs to run again and :mod:`cdp_analysis.output.index` builds the
cross-area index.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from . import chapters, interrupts, jobs, kernels, locks, paths, runner
from .areas.partnerships import Partnership
from .chapters import partnerships
from .errors import CannotRunError, InputError
from .files import write_atomic
from .output import index

log = logging.getLogger(__name__)

#: Statuses of a CDP's run that count as done.
DONE = ("succeeded", jobs.UP_TO_DATE)
#: A worker's run stopped by a signal, or by a problem that stops the batch; a job not started because the
#: batch was stopping.
INTERRUPTED, CANNOT_RUN, NOT_STARTED = "interrupted", "cannot run", "not started"
#: Seconds to wait, after a stop, for running CDPs to clean up.
STOP_GRACE = 60
STATE_FILE = "batch.json"


@dataclass(frozen=True)
class Options:
    """How a batch runs (``cdp run`` options; ``params/batch.yaml`` gives defaults).

    Attributes
    ----------
    jobs : int
        Worker processes (1: in this process).
    notebook_timeout, cdp_timeout : float or None
        Seconds one notebook, and one CDP's notebooks together, may run (None: no limit).
    scheduler : str or None
        Address of a Dask scheduler (``tcp://host:8786``) to run the jobs on.
    dask : bool
        Run the jobs on a Dask ``LocalCluster`` of ``jobs`` workers started here.
    force : bool
        Run CDPs whose outputs are up to date too.
    """

    jobs: int = 1
    notebook_timeout: float | None = None
    cdp_timeout: float | None = None
    scheduler: str | None = None
    dask: bool = False
    force: bool = False


CONFIG_FILE = "batch.yaml"


class BatchConfig(BaseModel):
    """``params/batch.yaml``: defaults for how batches run (each may be overridden on the command line)."""

    model_config = ConfigDict(extra="forbid")
    jobs: int | None = Field(None, ge=1, description="a whole number of worker processes, 1 or more")
    notebook_timeout: float | None = Field(1800, ge=0, description="seconds, e.g. 1800 (0: no limit)")
    cdp_timeout: float | None = Field(5400, ge=0, description="seconds, e.g. 5400 (0: no limit)")
    scheduler: str | None = Field(None, pattern=r"^(tcp|tls|inproc|ws|wss)://",
                                  description="a Dask scheduler address such as tcp://10.0.0.5:8786")


def config(path: Path | None = None) -> BatchConfig:
    """The batch defaults from ``params/batch.yaml`` (built-in defaults if the file is absent)."""
    from .areas.params import read_yaml, validate

    path = Path(path or paths.params_dir() / CONFIG_FILE)
    if not path.is_file():
        return BatchConfig()
    return validate(BatchConfig, read_yaml(path), path)


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_job(key: str, outputs_root: str, force: bool = False, notebook_timeout: float | None = None,
            cdp_timeout: float | None = None) -> runner.RunResult:
    """One CDP's run in a worker; ``key`` names the CDP (:attr:`Partnership.key`: its settings are rebuilt in
    the worker). Never raises: a stop becomes status 'interrupted' or 'cannot run'."""
    from .chapters import partnerships

    if _BATCH_STOPPING.get("event") is not None and _BATCH_STOPPING["event"].is_set():
        return runner.RunResult(key, NOT_STARTED, 0.0, Path(outputs_root))
    with interrupts.handled():
        try:
            cdp = partnerships.get(key)
        except InputError as exc:
            return runner.RunResult(key, "input error", 0.0, Path(outputs_root), exc.message)
        try:
            result = runner.run_one(cdp, outputs_root=Path(outputs_root), force=force,
                                    notebook_timeout=notebook_timeout, cdp_timeout=cdp_timeout)
            freeze_after_first_run()
            if result.status == "succeeded":  # the CDP's entry in the index, made here in parallel
                try:
                    index.cdp_entry(result.output_dir, chapters.key_figures())
                except Exception as exc:  # noqa: BLE001 - the index is rebuilt after the batch anyway
                    log.warning("%s: its index entry was not made here (%s)", cdp.slug, exc)
            return result
        except interrupts.Interrupted as exc:
            return _stopped(exc, cdp, outputs_root, INTERRUPTED, str(exc))
        except locks.CdpBusyError as exc:  # being run elsewhere: only this CDP is not done
            return runner.RunResult(cdp.slug, "failed", 0.0, Path(outputs_root) / cdp.slug, exc.message)
        except CannotRunError as exc:
            return _stopped(exc, cdp, outputs_root, CANNOT_RUN, exc.message)
        except InputError as exc:  # e.g. a notebook missing from notebooks/: this CDP only
            return runner.RunResult(cdp.slug, "input error", 0.0, Path(outputs_root) / cdp.slug, exc.message)


_FROZEN: list[bool] = []


def freeze_after_first_run() -> None:
    """After a worker's first CDP, leave what is alive (modules, memoised tables, nbconvert's templates, about
    290,000 objects) out of the worker's later garbage collections (:func:`gc.freeze`), once.

    Each full collection looked at all of them again: about 0.07 s of a worker's processor time per CDP. What
    later CDPs make, and the cycles among it (a report's parsed page), is collected as before; the first CDP's
    garbage is collected just before the freeze, so none of it is kept. The kernel does the same for its own
    objects before each notebook (:mod:`cdp_analysis.kernel_state`).
    """
    if _FROZEN:
        return
    _FROZEN.append(True)
    gc.collect()
    gc.freeze()


def _stopped(exc, cdp, outputs_root, status, message) -> runner.RunResult:
    result = getattr(exc, "result", None) or runner.RunResult(cdp.slug, status, 0.0,
                                                               Path(outputs_root) / ".failed" / cdp.slug)
    result.status, result.message = status, message
    return result


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_BATCH_STOPPING: dict = {}  # in a local worker: the event the batch sets when it stops


def _worker_init(stopping) -> None:
    """Worker processes ignore Ctrl-C while idle (a running CDP handles it) and stop their kernel at exit.

    A worker is born with SIGINT and SIGTERM blocked (:func:`_run_local` blocks them while it starts the
    workers), so a signal that arrives while it is still importing cannot kill it half-way; here they are
    ignored, then unblocked.
    """
    from multiprocessing import util

    kernels.skip_unused_format_checker()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    _BATCH_STOPPING["event"] = stopping  # set: jobs already queued to this worker are not started
    util.Finalize(None, kernels.shutdown, exitpriority=10)
    handler = logging.StreamHandler(sys.stderr)  # as `cdp` shows: warnings, not the runner's own lines
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s (worker %(process)d): %(message)s"))
    handler.addFilter(lambda record: not record.name.startswith("cdp_analysis.runner"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    logging.getLogger("traitlets").setLevel(logging.ERROR)


def up_to_date(cdps: list[Partnership], root: Path, force: bool = False) -> set[str]:
    """The slugs of the CDPs whose outputs in ``root`` are up to date (none with ``force``)."""
    if force:
        return set()
    root = Path(root).resolve()
    shared = jobs.shared_inputs()  # the same for every CDP: hashed once, not once per CDP
    return {c.slug for c in cdps if jobs.up_to_date(c, root / c.slug, shared=shared)}


def run_batch(cdps: list[Partnership], options: Options, *, outputs_root: Path | None = None,
              stream=None, fresh: set[str] | None = None) -> list[runner.RunResult]:
    """Run ``cdps`` as :class:`Options` say; return one result per CDP, in the order given.

    The CDPs up to date (``fresh``, computed by :func:`up_to_date` if not given) are not sent to any worker, so
    a no-op re-run starts no process and no kernel (each worker checks again, holding the CDP's lock).

    Raises
    ------
    Interrupted, CannotRunError
        With ``results`` (the CDPs that finished), after the CDPs still running have cleaned up.
    """
    root = Path(outputs_root or paths.outputs_dir()).resolve()
    cdps = partnerships.distinct(cdps)  # two CDPs of one batch never share a folder
    stream = stream or sys.stderr
    locks.clean_stale(root)  # partial folders and locks of runs whose process died
    fresh = up_to_date(cdps, root, options.force) if fresh is None else fresh
    results = {c.slug: runner.RunResult(c.slug, jobs.UP_TO_DATE, 0.0, root / c.slug,
                                        "inputs, code and outputs unchanged since the last run (--force runs it again)")
               for c in cdps if c.slug in fresh}
    todo = [c for c in cdps if c.slug not in fresh]
    if todo and not options.scheduler and not options.dask and (options.jobs <= 1 or len(todo) <= 1):
        if fresh:
            print(f"{len(fresh)} CDP(s) up to date, not run again", file=stream, flush=True)
        try:
            done = runner.run_many(todo, outputs_root=root, stream=stream, force=options.force,
                                   notebook_timeout=options.notebook_timeout, cdp_timeout=options.cdp_timeout)
        except (interrupts.Interrupted, CannotRunError) as exc:
            exc.results = [*results.values(), *getattr(exc, "results", [])]
            record(exc.results, cdps, root)
            raise
        finally:
            kernels.shutdown()
        results.update({r.slug: r for r in done})
        ordered = [results[c.slug] for c in cdps]
        record(ordered, cdps, root)
        return ordered
    progress = _Progress(len(cdps), stream, done=len(fresh))
    try:
        if todo:
            engine = _run_dask if (options.scheduler or options.dask) else _run_local
            engine(todo, options, root, results, progress)
    except (interrupts.Interrupted, CannotRunError) as exc:
        exc.results = [results[c.slug] for c in cdps if c.slug in results]
        record(exc.results, cdps, root)
        raise
    ordered = [results[c.slug] for c in cdps]
    record(ordered, cdps, root)
    stop = next((r for r in ordered if r.status == CANNOT_RUN), None)
    if stop is not None:
        exc = CannotRunError(stop.message)
        exc.results = ordered
        raise exc
    return ordered


class _Progress:
    """One line per finished CDP: ``[k/N] slug status (seconds)``."""

    def __init__(self, total: int, stream, done: int = 0):
        self.total, self.stream, self.done, self.t0 = total, stream, done, time.perf_counter()
        if done:
            print(f"[{done}/{total}] {done} CDP(s) up to date, not run again", file=stream, flush=True)

    def __call__(self, res: runner.RunResult) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.t0
        line = f"[{self.done}/{self.total}] {res.slug} {res.status} ({res.seconds:.1f} s; {elapsed:.0f} s elapsed)"
        if res.status not in DONE and res.message:
            line += f"\n  {res.message.splitlines()[0]}"
        print(line, file=self.stream, flush=True)


def _run_local(todo, options: Options, root: Path, results: dict, progress) -> None:
    """Jobs on pools of ``options.jobs`` worker processes on this machine.

    A worker that dies (killed, out of memory) breaks its pool, and every CDP the pool held is lost. The CDPs
    that had not started go to a new pool. Those that were running (one of them killed the worker) are each run
    again alone, in a pool of their own, so that a CDP that kills its worker fails by itself ("the worker
    running it stopped") and the others complete.
    """
    runner.kernel_name()  # warn once, here, if the suite's kernel is not registered
    context = multiprocessing.get_context("spawn")
    stopping = context.Event()
    lost: dict[str, int] = {}
    alone: list = []
    while todo or alone:
        if todo:
            todo, isolate = _one_pool(todo, options.jobs, options, root, results, progress, context, stopping,
                                      lost)
            alone += isolate
        else:
            todo, isolate = _one_pool([alone.pop(0)], 1, options, root, results, progress, context, stopping,
                                      lost, last_chance=True)
            alone += isolate


def _one_pool(todo, jobs_, options, root, results, progress, context, stopping, lost, last_chance=False):
    """Run ``todo`` on one pool of ``jobs_`` workers. Returns the CDPs lost when a worker died: those that had
    not started (for a new pool) and those that were running (each to be run alone)."""
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=min(jobs_, len(todo)), mp_context=context,
                               initializer=_worker_init, initargs=(stopping,))
    futures: dict = {}
    started: set = set()
    again, isolate = [], []

    def collect(f) -> None:
        cdp = futures[f]
        if isinstance(f.exception(), BrokenProcessPool) and not last_chance:
            lost[cdp.slug] = lost.get(cdp.slug, 0) + 1
            if f in started or lost[cdp.slug] > 1:
                log.warning("%s: a worker process stopped while it ran; it will be run again alone", cdp.slug)
                isolate.append(cdp)
            else:
                again.append(cdp)
            return
        res = _result_of(f, cdp, root)
        if res.status == NOT_STARTED:
            return
        results[res.slug] = res
        progress(res)
        if res.status in (CANNOT_RUN, INTERRUPTED):  # stop: start no further CDP
            raise _stop_for(res)

    try:
        # the workers start (in submit) with the stop signals blocked, and inherit that; a signal arriving
        # meanwhile waits, and is delivered just below, inside this try
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            for c in todo:
                futures[pool.submit(run_job, c.key, str(root), options.force, options.notebook_timeout,
                                    options.cdp_timeout)] = c
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        pending = set(futures)
        while pending:
            started |= {f for f in pending if f.running()}
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for f in done:
                collect(f)
            interrupts.check()
    except BaseException as exc:
        signum = exc.signum if isinstance(exc, interrupts.Interrupted) else signal.SIGTERM
        stopping.set()
        for f in futures:
            f.cancel()
        # a signal sent to this process only (`kill PID`) is passed on; a worker that had it already ignores
        # the second one; idle workers ignore it
        for child in multiprocessing.active_children():
            try:
                os.kill(child.pid, signum)
            except OSError:
                pass
        running = [f for f in futures if not f.cancelled()]
        _, late = wait(running, timeout=STOP_GRACE)
        for f in running:  # every CDP that finished, including those done before the stop and not yet counted
            if f.done() and futures[f].slug not in results:
                res = _result_of(f, futures[f], root)
                if res.status != NOT_STARTED:
                    results[res.slug] = res
        if late:  # a worker that missed the signal: stop it (its kernel follows; its partial folder is
            for child in multiprocessing.active_children():  # removed at the next run)
                child.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return again, isolate


def _stop_for(res: runner.RunResult) -> BaseException:
    if res.status == CANNOT_RUN:
        return CannotRunError(res.message)
    return interrupts.Interrupted(interrupts.requested() or signal.SIGINT)


def _result_of(future, cdp: Partnership, root: Path) -> runner.RunResult:
    """A future's result; a worker that died (killed, out of memory) becomes a failed run of its CDP."""
    try:
        return future.result()
    except BaseException as exc:  # noqa: BLE001 - BrokenProcessPool, a Dask worker lost, a stray interrupt …
        log.error("%s: worker failed: %s", cdp.slug, exc)
        return runner.RunResult(cdp.slug, "failed", 0.0, root / ".failed" / cdp.slug,
                                f"the worker running it stopped: {type(exc).__name__}: {exc}")


def _run_dask(todo, options: Options, root: Path, results: dict, progress) -> None:
    """Jobs on a Dask cluster: the one at ``options.scheduler``, or a LocalCluster started here."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if options.scheduler:
        client = Client(options.scheduler, timeout="30s")
    else:
        cluster = LocalCluster(n_workers=max(options.jobs, 1), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        client.register_plugin(_kernel_plugin(), name="cdp-warm-kernel")
        # long-lived workers: no kernel or memoised table from an earlier batch (data may have changed since)
        client.run(_fresh_worker)
        futures = {client.submit(run_job, c.key, str(root), options.force, options.notebook_timeout,
                                 options.cdp_timeout, key=f"cdp-run-{c.slug}-{time.time_ns()}", pure=False): c
                   for c in todo}
        by_key = {f.key: c for f, c in futures.items()}
        try:
            for f in as_completed(futures):
                res = _result_of(f, by_key[f.key], root)
                results[res.slug] = res
                progress(res)
                if res.status in (CANNOT_RUN, INTERRUPTED):
                    raise _stop_for(res)
                interrupts.check()
        except BaseException:
            client.cancel([f for f in futures if not f.done()])
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _fresh_worker() -> None:
    """On a Dask worker before a batch: stop its warm kernel and empty the package's in-memory caches."""
    from . import clear_caches

    kernels.shutdown()
    clear_caches()


def _kernel_plugin():
    """A Dask worker plugin that stops the worker's warm kernel when the worker closes."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class StopWarmKernel(WorkerPlugin):
        def teardown(self, worker):
            kernels.shutdown()

    return StopWarmKernel()


# ---------------------------------------------------------------------------------------------------- state


def state(root: Path | None = None) -> dict:
    """``outputs/batch.json``: the last outcome of every CDP run into ``root`` (empty if none).

    Raises
    ------
    InputError
        If the file cannot be read (``--only-failed`` needs it).
    """
    path = Path(root or paths.outputs_dir()) / STATE_FILE
    if not path.is_file():
        return {"cdps": {}}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the batch record: {exc}", file=path,
                         hint="delete it; the next `cdp run` writes it again") from None


def record(results: list[runner.RunResult], cdps: list[Partnership], root: Path) -> Path | None:
    """Merge each CDP's outcome into ``outputs/batch.json`` (CDP, status, failing notebook, error, the path of
    the partial notebook, how to name it again on the command line), holding a lock on the output folder
    (``flock`` of the folder itself) so two batches writing at once lose nothing. A damaged record is started
    afresh (with a warning)."""
    import fcntl

    if not results:
        return None
    root = Path(root)
    by_slug = {c.slug: c for c in cdps}
    folder = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        try:
            current = state(root)
        except InputError as exc:
            log.warning("%s; starting it afresh", exc.message.splitlines()[0])
            current = {"cdps": {}}
        for r in results:
            cdp = by_slug.get(r.slug)
            notebook, error, partial = runner.failed_notebook(r)
            current["cdps"][r.slug] = {
                "name": cdp.name if cdp else r.slug,
                "key": cdp.key if cdp else r.slug,
                "status": r.status,
                "seconds": round(r.seconds, 2),
                "notebook": notebook,
                "error": error or (r.message if r.status not in DONE else None),
                "partial_notebook": str(partial) if partial is not None else None,
                "output_dir": str(r.output_dir),
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        current["cdps"] = dict(sorted(current["cdps"].items()))
        path = root / STATE_FILE
        write_atomic(path, json.dumps(current, indent=1) + "\n")
    finally:
        os.close(folder)  # releases the lock
    return path


def failed_keys(root: Path | None = None) -> list[str]:
    """How to name again (slug or file) every CDP whose last run in ``root`` did not succeed."""
    return [v["key"] for v in state(root)["cdps"].values() if v["status"] not in DONE]
