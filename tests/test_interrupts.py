"""A stop asked for by a signal is never lost, even when the exception it raised was swallowed."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from cdp_analysis import interrupts, runner
from cdp_analysis.chapters import partnerships


def _swallowed(signum):
    """What happens inside a kernel client's callback: the exception is printed and ignored."""
    try:
        interrupts._handler(signum, None)
    except interrupts.Interrupted:
        pass


def test_a_swallowed_interrupt_still_stops_the_run_at_the_next_check():
    with interrupts.handled():
        _swallowed(signal.SIGINT)
        with pytest.raises(interrupts.Interrupted) as exc:
            interrupts.check()
    assert exc.value.exit_status == 130
    assert interrupts.requested() == signal.SIGINT  # remembered until the next run starts
    with interrupts.handled():
        interrupts.check()  # a new run starts clean


def test_the_batch_starts_no_further_cdp_after_a_swallowed_interrupt(monkeypatch, tmp_path):
    ran = []

    def fake_run_one(cdp, **kw):
        ran.append(cdp.slug)
        _swallowed(signal.SIGTERM)
        return runner.RunResult(cdp.slug, "succeeded", 0.1, Path(tmp_path / cdp.slug))

    monkeypatch.setattr(runner, "run_one", fake_run_one)
    monkeypatch.setattr(runner, "kernel_name", lambda: "python3")
    cdps = [partnerships.get("nottinghamshire"), partnerships.get("northamptonshire")]
    with pytest.raises(interrupts.Interrupted) as exc:
        runner.run_many(cdps, outputs_root=tmp_path)
    assert ran == ["nottinghamshire"] and exc.value.exit_status == 143
    assert [r.slug for r in exc.value.results] == ["nottinghamshire"]  # the summary lists what finished


def test_handlers_are_restored_after_a_run():
    before = signal.getsignal(signal.SIGTERM)
    with interrupts.handled():
        assert signal.getsignal(signal.SIGTERM) is interrupts._handler
    assert signal.getsignal(signal.SIGTERM) is before
