"""One warm Jupyter kernel per process, reused by every notebook (and every CDP) the process runs.

Starting a kernel and importing pandas, statsmodels, matplotlib and the package costs a few seconds, paid
again by every notebook when each runs in a new kernel: five times per CDP, 760 times for ``--all``.
A :class:`WarmKernel` starts the kernel once and runs notebook after notebook in it through papermill. Two
things make this safe and invisible in the outputs:

* **A clean namespace for each notebook.** Before a notebook's first cell the kernel runs ``%reset -f`` and
  :func:`cdp_analysis.kernel_state.restore` (closes figures; puts back matplotlib's settings, the warning
  filters and records, pandas' options and the working directory), silently and outside the notebook's
  history. What carries over is only what the
  process has imported and the package's memoised tables (:mod:`cdp_analysis.memo`): data loaded and
  all-area tables computed for one CDP are reused by the next, which is the "compute once, slice per area"
  of a batch.
* **Fresh-kernel numbering.** The runner renumbers execution counts 1, 2, … in each saved notebook
  (:func:`cdp_analysis.runner.stabilise_notebook`), so a notebook run in a warm kernel is byte-identical to
  the same notebook run in a new one (``tests/test_batch.py`` checks this).

After a notebook fails, times out or its kernel dies, the kernel is replaced before the next notebook. A kernel
that fails to start is tried once more after a pause (:data:`START_ATTEMPTS`); if it still fails,
:class:`KernelStartError` names the kernel and what it said. A notebook's time limit is enforced by stopping
its kernel (:meth:`WarmKernel.run`), which papermill reports as a dead kernel and the runner as a timeout.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import paths

if TYPE_CHECKING:  # nbformat is imported only when a notebook is run
    from nbformat import NotebookNode

log = logging.getLogger(__name__)

#: How many times a kernel start is attempted before the CDP's run fails.
START_ATTEMPTS = 2
#: Seconds to wait between two attempts, and for a new kernel to answer.
RETRY_PAUSE = 2.0
STARTUP_TIMEOUT = 60

#: Run silently in the kernel before each notebook (not stored in its history or counted).
RESET_CODE = "%reset -f\nimport cdp_analysis.kernel_state as _cdp_state\n_cdp_state.restore()\ndel _cdp_state\n"


def environment_code(environment: dict[str, str] | None) -> str:
    """Code that sets the kernel's environment variables for the next notebook: each name in ``environment`` is
    set to its value, or removed where the value is '' (a warm kernel keeps what an earlier notebook was given)."""
    if not environment:
        return ""
    lines = ["import os as _cdp_os"]
    for name, value in sorted(environment.items()):
        lines.append(f"_cdp_os.environ[{name!r}] = {value!r}" if value else f"_cdp_os.environ.pop({name!r}, None)")
    return "\n".join([*lines, "del _cdp_os", ""])


class KernelStartError(RuntimeError):
    """The Jupyter kernel did not start (after :data:`START_ATTEMPTS` attempts)."""


class NotebookTimeoutError(RuntimeError):
    """A notebook ran past its time limit; its kernel was stopped."""


_LIVE: set = set()  # kernel managers started by this process, to stop on an interrupt


def kill_all() -> None:
    """Stop every kernel this process started that is still running, and remove its connection file.

    An interrupt can arrive while the kernel client's event loop is running, leaving papermill no chance to
    shut its kernel down; this makes sure no kernel outlives the run.
    """
    for km in list(_LIVE):
        _kill(km)


def _kill(km) -> None:
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is not None and process.poll() is None:
        process.kill()
        try:
            process.wait(timeout=10)
        except Exception:  # noqa: BLE001 - best effort while stopping
            pass
        log.info("stopped kernel process %s", process.pid)
    try:
        Path(km.connection_file).unlink(missing_ok=True)
    except (OSError, TypeError):
        pass
    _LIVE.discard(km)


def _manager_class(stderr_path: Path):
    """A kernel manager class whose kernel writes its own stderr (C-level messages, crashes) to ``stderr_path``."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            stderr_path.parent.mkdir(parents=True, exist_ok=True)
            with open(stderr_path, "a", encoding="utf-8") as stderr:  # the child keeps its own descriptor
                kw["stderr"] = stderr
                launched = await super()._async_launch_kernel(kernel_cmd, **kw)
            _LIVE.add(self)
            return launched

    return QuietKernelManager


#: A module jsonschema imports, when it is installed, only to check the 'iri' and 'iri-reference' formats; it builds
#: 38 Lark grammars as it is imported, about 1 s at the start of every `cdp` process and batch worker
#: (docs/performance.md, "Third pass"). It comes with JupyterLab (jupyter-events asks for jsonschema's format
#: checkers). nbformat and papermill, the only users of jsonschema in those processes, check no format.
UNUSED_FORMAT_CHECKER = "rfc3987_syntax"


def skip_unused_format_checker() -> None:
    """Keep jsonschema from importing :data:`UNUSED_FORMAT_CHECKER` in this process: called by the `cdp` command
    (:func:`cdp_analysis.cli.main`, also when called in a process of one's own) and its batch workers before
    anything imports nbformat; not in a kernel or in JupyterLab. For the rest of the process, jsonschema checks no
    'iri' format. Does nothing once jsonschema is imported."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault(UNUSED_FORMAT_CHECKER, None)  # None: `import` raises ImportError, which it expects


async def _until_ready(kc, km, timeout: float) -> None:
    """Wait until the kernel answers on the shell channel and its IOPub channel is connected.

    jupyter_client's ``wait_for_ready`` does the same, then waits until IOPub has been quiet for 0.2 s: for a
    kernel that has just run a notebook, 0.2 s of nothing per notebook (over a second per CDP). Those late messages
    belong to earlier requests, and nbclient reads only the replies to its own, so the wait is left out.
    """
    from queue import Empty

    from jupyter_core.utils import ensure_async

    deadline = time.monotonic() + timeout
    while True:
        kc.kernel_info()
        try:
            msg = await ensure_async(kc.shell_channel.get_msg(timeout=1))
        except Empty:
            msg = None
        if msg is not None and msg["msg_type"] == "kernel_info_reply":
            try:  # a message on IOPub (the kernel's busy/idle for this request) shows the channel is connected
                await ensure_async(kc.iopub_channel.get_msg(timeout=0.2))
                kc._handle_kernel_info_reply(msg)  # as wait_for_ready does (the kernel's protocol version)
                return
            except Empty:
                pass
        if not await ensure_async(km.is_alive()):
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


def _engine():
    """The papermill engine that runs a notebook in a given, already running kernel, after a silent reset."""
    from jupyter_core.utils import run_sync
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class FreshNamespaceClient(PapermillNotebookClient):
        environment: dict[str, str] | None = None

        async def async_start_new_kernel_client(self):
            """nbclient's, with :func:`_until_ready` for ``wait_for_ready``: the kernel is already running."""
            from jupyter_core.utils import ensure_async
            from nbclient.util import run_hook

            self.kc = self.km.client()
            try:
                await ensure_async(self.kc.start_channels())
                await _until_ready(self.kc, self.km, self.startup_timeout)
            except Exception:
                await self._async_cleanup_kernel()
                raise
            self.kc.allow_stdin = False
            await run_hook(self.on_notebook_start, notebook=self.nb)
            return self.kc

        # nbclient binds its synchronous twin to its own coroutine when the class is made (``run_sync``), and
        # papermill calls the twin: without this line the override above would never run.
        start_new_kernel_client = run_sync(async_start_new_kernel_client)

        def papermill_execute_cells(self):
            code = RESET_CODE + environment_code(self.environment)
            reply = self.wait_for_reply(self.kc.execute(code, silent=True, store_history=False))
            if reply is None or reply["content"].get("status") != "ok":
                content = (reply or {}).get("content", {})
                raise RuntimeError(f"resetting the kernel failed: {content.get('ename')}: {content.get('evalue')}")
            super().papermill_execute_cells()

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, *, km, partial_output, execution_timeout=None,
                                     environment=None, **kwargs):
            client = FreshNamespaceClient(nb_man, km=km, kernel_name=kernel_name, timeout=execution_timeout,
                                          startup_timeout=STARTUP_TIMEOUT, log=logging.getLogger("papermill"),
                                          log_output=False)
            client.environment = environment
            try:
                return client.execute()
            except Exception:  # a dead or stopped kernel: keep the cells run so far (papermill writes none)
                import nbformat

                nbformat.write(nb_man.nb, partial_output)
                raise
            finally:  # the kernel stays up for the next notebook; its client for this one is closed
                if client.kc is not None:
                    client.kc.stop_channels()

    papermill_engines.register("cdp-warm-kernel", WarmKernelEngine)
    return "cdp-warm-kernel"


class WarmKernel:
    """A Jupyter kernel kept running between notebooks.

    Parameters
    ----------
    kernel_name : str
        The kernelspec to start (:func:`cdp_analysis.runner.kernel_name`).
    stderr_path : Path
        File that receives the kernel process's own stderr.
    """

    def __init__(self, kernel_name: str, stderr_path: Path):
        self.kernel_name = kernel_name
        self.stderr_path = Path(stderr_path)
        self.km = None
        self.notebooks_run = 0
        self._engine = _engine()

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def start(self) -> None:
        """Start the kernel if it is not running; one more attempt after a pause if the first fails."""
        from jupyter_core.utils import run_sync

        if self.alive():
            return
        self.stop()
        problem = None
        for attempt in range(1, START_ATTEMPTS + 1):
            km = _manager_class(self.stderr_path)(kernel_name=self.kernel_name)
            try:
                run_sync(km.start_kernel)(cwd=str(paths.notebooks_dir()))
                kc = km.client()
                kc.start_channels()
                try:
                    run_sync(kc.wait_for_ready)(timeout=STARTUP_TIMEOUT)
                finally:
                    kc.stop_channels()
                self.km, self.notebooks_run = km, 0
                log.info("kernel '%s' started (process %s)", self.kernel_name, km.provisioner.process.pid)
                return
            except Exception as exc:  # noqa: BLE001 - a kernel that will not start: try once more
                problem = f"{type(exc).__name__}: {exc}"
                log.warning("kernel '%s' did not start (attempt %d of %d): %s", self.kernel_name, attempt,
                            START_ATTEMPTS, problem)
                _kill(km)
                if attempt < START_ATTEMPTS:
                    time.sleep(RETRY_PAUSE)
        raise KernelStartError(f"the Jupyter kernel '{self.kernel_name}' did not start after {START_ATTEMPTS} "
                               f"attempts ({problem}); its own messages are in {self.stderr_path}")

    def stop(self) -> None:
        """Stop the kernel (if any)."""
        if self.km is not None:
            _kill(self.km)
            self.km = None

    def run(self, source: Path, output: Path, parameters: dict, *, timeout: float | None = None,
            environment: dict[str, str] | None = None) -> NotebookNode:
        """Execute notebook ``source`` into ``output`` with papermill in this kernel, with the kernel's
        ``environment`` variables set first (:func:`environment_code`); return the executed notebook (the
        ``NotebookNode`` written to ``output``).

        Raises
        ------
        papermill.exceptions.PapermillExecutionError
            A cell raised (the kernel is replaced before the next notebook).
        NotebookTimeoutError
            The notebook ran longer than ``timeout`` seconds; its kernel was stopped.
        KernelStartError
            No kernel could be started.
        """
        import papermill as pm

        self.start()
        timed_out = threading.Event()

        def expire():
            timed_out.set()
            log.error("%s ran past its time limit of %.0f s: stopping its kernel", source.name, timeout)
            self.stop()

        timer = threading.Timer(timeout, expire) if timeout else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        ok = False
        try:
            executed = pm.execute_notebook(str(source), str(output), parameters=parameters,
                                           kernel_name=self.kernel_name, engine_name=self._engine, km=self.km,
                                           partial_output=str(output), environment=environment,
                                           cwd=str(paths.notebooks_dir()), progress_bar=False, log_output=False,
                                           request_save_on_cell_execute=False)
            ok = True
        except Exception as exc:
            if timed_out.is_set():
                raise NotebookTimeoutError(f"it ran past its time limit of {timeout:g} s and was stopped") from exc
            raise
        finally:
            if timer is not None:
                timer.cancel()
            self.notebooks_run += 1
            if not ok:  # a failed notebook may leave the kernel in any state: the next one gets a new kernel
                self.stop()
        return executed


_WARM: dict[str, WarmKernel] = {}


def warm_kernel(kernel_name: str, stderr_path: Path) -> WarmKernel:
    """This process's warm kernel for ``kernel_name`` (one at a time; a different log path replaces it)."""
    current = _WARM.get("kernel")
    if current is not None and (current.kernel_name, current.stderr_path) == (kernel_name, Path(stderr_path)):
        return current
    if current is not None:
        current.stop()
    _WARM["kernel"] = WarmKernel(kernel_name, stderr_path)
    return _WARM["kernel"]


def shutdown() -> None:
    """Stop this process's warm kernel (at the end of a batch, or when a worker exits)."""
    current = _WARM.pop("kernel", None)
    if current is not None:
        current.stop()


def stderr_log() -> Path:
    """Where this process's kernel writes its own stderr (start-up messages, a crash): a file in the system's
    temporary folder, ``cdp-analysis-kernels/kernel-<pid>.log``, named in any kernel error; kept out of the
    outputs, which hold reports."""
    import tempfile

    return Path(tempfile.gettempdir()) / "cdp-analysis-kernels" / f"kernel-{os.getpid()}.log"
