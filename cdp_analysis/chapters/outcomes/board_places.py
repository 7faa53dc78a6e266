"""The board page's line on the partnership's places (chapter 5, places and inequalities), read from that chapter's
declared table ``places`` (never its code): the places whose deaths, age for age, are higher than England's."""

from __future__ import annotations

from .compute import Outcomes


def places_line(o: Outcomes) -> str:
    """One sentence naming the partnership's places (districts, or unitaries) whose deaths, age for age, are higher
    than England's by their own 95% limits, read from the places chapter's table (``places``); '' when none is."""
    t = o.earlier.get("places")
    if t is None or t.empty:
        return ""
    worse = t[(t["area_role"] == "place") & (t["measure"] == "indirectly standardised ratio")
              & (t["compared_to_england"] == "Worse")].sort_values(["area_name", "cause"])
    if worse.empty:
        return ""
    parts = [f"{name} (" + "; ".join(f"{r.cause} {r.value:.2f} times, 95% limits {r.lower_ci:.2f}–{r.upper_ci:.2f}"
                                     for r in rows.itertuples()) + ")"
             for name, rows in worse.groupby("area_name", sort=True)]
    return (f"Age for age, deaths in {worse['time_period'].iloc[0]} were higher than England's in "
            + ", ".join(parts) + " (deaths over those expected at England's rates; chapter 5 compares every place).")
