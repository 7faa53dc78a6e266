"""The ``cdp`` command: list CDPs, check the data, run the needs assessment.

``cdp fetch fingertips ID …`` (optional, the one command that uses the internet) downloads Fingertips
indicator exports into ``data/user/fingertips/``.

Exit status: 0 success; 1 a notebook failed (the other CDPs still ran); 2 bad input (unknown CDP or
area code, invalid parameters, missing, malformed, implausible or unregistered data file); 3 the run
cannot go on (a read-only or full disk, a missing permission, the CDP already being run); 130 / 143
stopped by Ctrl-C / SIGTERM (the summary says which CDPs finished). Problems are reported as one
readable message without a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from . import __version__

log = logging.getLogger("cdp_analysis.cli")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cdp", description="Substance-misuse needs assessments for Combating Drugs Partnerships.")
    p.add_argument("--version", action="version", version=f"cdp-analysis {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="show progress messages from the package")
    # -v is accepted after the subcommand too (`cdp run -v nottinghamshire`); SUPPRESS keeps an earlier -v
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show progress messages from the package")
    sub = p.add_subparsers(dest="command", required=True, metavar="{areas,run,data,open,fetch,update}")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=description, parents=[common])

    a = command("areas", "list the CDPs (named multi-area ones and every single area)",
                "List every CDP: the named multi-area ones defined in params/cdps/ and every current upper-tier "
                "area not in one, with member codes and region.")
    a.add_argument("--named", action="store_true", help="only the named multi-area CDPs from params/cdps/")
    r = command("run", "run every chapter notebook for the given CDPs",
                "Run the needs assessment for each CDP: every chapter's notebook, then the HTML report, the "
                "tables, figures and run.json, into outputs/<cdp>/ (replaced only when every notebook succeeded).")
    r.add_argument("cdps", nargs="*", metavar="CDP", help="CDP slug (e.g. nottinghamshire) or area code (e.g. E10000024)")
    r.add_argument("--all", action="store_true", help="run every CDP (named ones replace their members)")
    r.add_argument("--outputs", metavar="DIR", help="output root folder (default: outputs/)")
    r.add_argument("--force", action="store_true",
                   help="run every CDP named even if its outputs are up to date (same inputs, code and settings)")
    r.add_argument("--only-failed", action="store_true",
                   help="run again the CDPs whose last run did not succeed (outputs/batch.json); with names or "
                        "--all, only those among them")
    b = r.add_argument_group("batch", "how many CDPs run at once, where, and for how long (defaults: "
                                      "params/batch.yaml, else the values shown)")
    b.add_argument("-j", "--jobs", type=_positive_int, metavar="N",
                   help="CDPs run in parallel, one worker process and kernel each (default: the number of cores)")
    b.add_argument("--notebook-timeout", type=_seconds, metavar="SECONDS",
                   help="stop a notebook that runs longer than this (default 1800; 0: no limit)")
    b.add_argument("--cdp-timeout", type=_seconds, metavar="SECONDS",
                   help="stop a CDP whose notebooks together run longer than this (default 5400; 0: no limit)")
    b.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the CDPs on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786; "
                        "see docs/batch.md)")
    b.add_argument("--dask", action="store_true",
                   help="run the CDPs on a Dask LocalCluster of --jobs workers started here")
    command("data", "check the raw data files against the data register",
            "Check every file in data/raw against data/register.yaml: present, unchanged (SHA-256) and of a kind "
            "a dataset module reads. Exit status 2 if anything is wrong.")
    o = command("open", "show where a CDP's report is, and open it in a browser if there is one",
                "Print the path of a CDP's report.html (from the last successful run) and open it in the default "
                "browser when one is available.")
    o.add_argument("cdp", metavar="CDP", help="CDP slug or area code")
    o.add_argument("--outputs", metavar="DIR", help="output root folder (default: outputs/)")
    o.add_argument("--no-browser", action="store_true", help="only print the path")
    f = command("fetch", "download published data into data/user/ (needs the internet; optional)",
                "Download indicator CSV exports from the OHID Fingertips API into data/user/fingertips/, each with "
                "its provenance (URL, time, SHA-256). The next `cdp run` uses them (e.g. 93532 and 93517 in the "
                "treatment-gap chapter). Nothing is written unless the download is a valid export.")
    f.add_argument("source", choices=["fingertips"], help="where to download from")
    f.add_argument("ids", nargs="+", type=int, metavar="ID", help="Fingertips indicator IDs (e.g. 93532 93517)")
    f.add_argument("--area-type", type=int, default=502,
                   help="Fingertips area type ID (default 502: current upper-tier local authorities)")
    f.add_argument("--folder", metavar="DIR", help="download folder (default data/user/fingertips/)")
    f.add_argument("--api", metavar="URL", help="API root (default https://fingertips.phe.org.uk/api/)")
    u = command("update", "bring the newest published edition of each dataset into data/user/ (needs the internet)",
                "Ask each publisher (ONS dataset pages, the Fingertips API) for the newest edition of every dataset "
                "that has a source; download each file not held, read it with the dataset's own loader and "
                "plausibility rules, and only then add it to data/user/ (data/user/register.yaml). The next "
                "`cdp run` uses the newest accepted edition. A file whose layout changed is refused and the "
                "edition held stays in use. Exit status 2 if a file was refused.")
    u.add_argument("--dry-run", action="store_true", help="list what is newer than what is held; keep nothing")
    u.add_argument("--dataset", action="append", metavar="NAME",
                   help="only this dataset (repeatable; e.g. ons_drug_deaths, ons_population, fingertips)")
    u.add_argument("--mirror", metavar="URL",
                   help="fetch https://<host>/<path> from URL/<host>/<path> instead (an organisation's copy of the "
                        "publishers' sites)")
    return p


def _update(args) -> int:
    from . import update

    done = update.update(args.dataset, dry_run=args.dry_run, mirror=args.mirror)
    counts = {s: sum(o.status == s for o in done) for s in ("accepted", "newer", "held", "refused")}
    print(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no dataset has a source to update")
    refused = [o for o in done if o.status == "refused"]
    for o in refused:
        print(f"error: {o.message}", file=sys.stderr)
    return 2 if refused else 0


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number, 1 or more (got {text!r})")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, 0 for no limit (got {text!r})")
    return value


def _fetch(args) -> int:
    from pathlib import Path

    from .data import fingertips

    paths_ = fingertips.fetch(args.ids, area_type=args.area_type,
                              folder=Path(args.folder) if args.folder else None, api=args.api or fingertips.API)
    for p in paths_:
        print(f"downloaded {p} (provenance: {p.with_suffix('.provenance.json').name})")
    return 0


def _open(args) -> int:
    import webbrowser
    from pathlib import Path

    from . import paths
    from .chapters import partnerships
    from .errors import InputError

    cdp = partnerships.get(args.cdp)
    report = (Path(args.outputs) if args.outputs else paths.outputs_dir()) / cdp.slug / "report.html"
    if not report.is_file():
        raise InputError(f"no report for {cdp.slug} yet", file=report,
                         hint=f"run `cdp run {cdp.slug}` first")
    print(report.resolve())
    if not args.no_browser:
        webbrowser.open(report.resolve().as_uri())
    return 0


def _areas(named_only: bool) -> int:
    from .areas import geography
    from .chapters import partnerships

    reg = geography.areas().set_index("code")
    cdps = list(partnerships.named_partnerships().values()) if named_only else partnerships.all_partnerships()
    print(f"{'CDP':<38} {'members':<24} {'region':<26} name")
    for c in cdps:
        region = ", ".join(sorted({reg.loc[m, 'region_name'] for m in c.members}))
        print(f"{c.slug:<38} {c.members_text:<24} {region:<26} {c.name}")
    print(f"\n{len(cdps)} CDP(s). Named multi-area CDPs are defined in params/cdps/; any area code also works.")
    broken = partnerships.broken_files()
    for b in broken.values():
        print(f"not listed: {b.error.message}", file=sys.stderr)
    return 2 if broken else 0


def _data() -> int:
    from .data import register

    problems = register.verify_checksums()
    for e in register.load_register():
        print(f"{'ok ' if not any(p.startswith(e.path) for p in problems) else '!! '} {e.path}  ({e.publisher}, {e.edition})")
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    if any("read by no dataset" in p for p in problems):
        print("  -> correct the 'kind' in data/register.yaml to one of the kinds listed", file=sys.stderr)
    if any("read by no dataset" not in p for p in problems):
        print("  -> copy the file(s) again, unchanged, from ../shared/data/ (see data/README.md); if you added "
              "a newer edition on purpose, record it and its sha256 in data/register.yaml", file=sys.stderr)
    return 2 if problems else 0


def _run(args) -> int:
    from pathlib import Path

    from . import batch, interrupts, paths
    from .chapters import partnerships
    from .errors import InputError

    if args.all and args.cdps:
        raise InputError("give CDP names or --all, not both", hint="e.g. `cdp run nottinghamshire` or `cdp run --all`")
    if not args.all and not args.cdps and not args.only_failed:
        raise InputError("no CDP given", hint="e.g. `cdp run nottinghamshire northamptonshire`, or `cdp run --all`")
    root = Path(args.outputs) if args.outputs else paths.outputs_dir()
    named = partnerships.distinct(partnerships.all_partnerships() if args.all
                                  else [partnerships.get(k) for k in dict.fromkeys(args.cdps)])
    broken = list(partnerships.broken_files().values()) if args.all else []
    for b in broken:  # reported, and the exit status says so; every other CDP still runs
        print(f"error: {b.error.message}\n  (the CDP of {b.path.name} is not run)", file=sys.stderr)
    cdps = named
    if args.only_failed:
        failed = [partnerships.get(k) for k in batch.failed_keys(root)]
        chosen = {c.slug for c in named}
        cdps = [c for c in failed if not chosen or c.slug in chosen]
        if not cdps:
            print(f"no CDP failed in the last runs into {root} (outputs/batch.json): nothing to run again")
            return 0
        print(f"running again {len(cdps)} CDP(s) whose last run did not succeed: "
              f"{', '.join(c.slug for c in cdps[:10])}{' …' if len(cdps) > 10 else ''}")
    with interrupts.handled():
        status = _run_cdps(args, cdps, root)
    return max(status, 2) if broken and status in (0, 2) else status


def _batch_options(args):
    from . import batch

    conf = batch.config()

    def limit(value, default):
        value = default if value is None else value
        return value or None  # 0: no limit

    return batch.Options(jobs=args.jobs or conf.jobs or batch.default_jobs(),
                         notebook_timeout=limit(args.notebook_timeout, conf.notebook_timeout),
                         cdp_timeout=limit(args.cdp_timeout, conf.cdp_timeout),
                         scheduler=args.scheduler or conf.scheduler, dask=args.dask,
                         force=args.force or args.only_failed)


def _run_cdps(args, cdps, root) -> int:
    from pathlib import Path

    from . import batch, chapters, interrupts, jobs, runner
    from .errors import CannotRunError
    from .output import index

    options = _batch_options(args)
    fresh = batch.up_to_date(cdps, root, options.force)
    # a missing, malformed or unregistered raw file would fail every CDP's notebooks in turn: report it once
    # (not needed when every CDP is up to date: their job keys cover the bytes of every raw file)
    if len(fresh) < len(cdps):
        runner.check_inputs([c for c in cdps if c.slug not in fresh])
    try:
        results = batch.run_batch(cdps, options, outputs_root=root, fresh=fresh)
    except (interrupts.Interrupted, CannotRunError) as exc:
        done = getattr(exc, "results", [])
        if done:
            print(runner.summary(done))
        finished = {r.slug for r in done}
        left = [c.slug for c in cdps if c.slug not in finished]
        if left:
            print(f"not run: {', '.join(left[:10])}{' …' if len(left) > 10 else ''} ({len(left)} CDP(s))")
        raise
    print(runner.summary(results))
    # a batch (two or more CDPs, or --only-failed) rebuilds the index from every CDP folder when anything ran or
    # it is missing; a run of one CDP leaves it as it was (rebuilding reads every CDP's entry and rewrites
    # all_cdps.csv)
    ran = any(r.status != jobs.UP_TO_DATE for r in results)
    rebuild = (len(results) > 1 or args.only_failed) and (ran or not (Path(root) / index.INDEX).is_file())
    page = index.write(root, chapters.key_figures()) if rebuild else None
    if page is not None:
        print(f"Index of every CDP in {root}: {page}")
    if any(r.status == "input error" for r in results) and all(r.status != "failed" for r in results):
        return 2
    return 0 if all(r.status in batch.DONE for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cdp`` console script."""
    from .errors import CannotRunError, InputError
    from .interrupts import Interrupted
    from .kernels import skip_unused_format_checker

    skip_unused_format_checker()  # before anything imports nbformat (1 s less at each start)
    args = _parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.INFO if args.verbose else logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not args.verbose:  # the runner reports each CDP's outcome itself (progress lines and summary)
        handler.addFilter(lambda record: not record.name.startswith("cdp_analysis.runner"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    try:
        if args.command == "areas":
            return _areas(args.named)
        if args.command == "data":
            return _data()
        if args.command == "open":
            return _open(args)
        if args.command == "fetch":
            return _fetch(args)
        if args.command == "update":
            return _update(args)
        return _run(args)
    except BrokenPipeError:  # the reader went away (`cdp areas | head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except CannotRunError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 3
    except InputError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(f"{exc}: the CDP being run was moved to .failed/; earlier outputs of unfinished CDPs are unchanged",
              file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("interrupted; outputs of CDPs not yet finished are unchanged", file=sys.stderr)
        return 130
    except OSError as exc:  # outside a run (e.g. reading the register): still one message, no traceback
        print(f"error: {CannotRunError.from_os_error(exc, doing=args.command).message}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
