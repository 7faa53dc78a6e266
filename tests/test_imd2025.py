"""IoD 2025 district summaries: values as published (read here with the csv module, not the loader), and a
broken copy refused with one message naming the row, column and rule."""

from __future__ import annotations

import csv

import pytest
from conftest import REPO

from cdp_analysis import clear_caches
from cdp_analysis.data import imd2025
from cdp_analysis.errors import InputError

FILE = REPO / "data" / "raw" / "imd2025" / "indices_of_deprivation_2025_lad_trafforddatalab.csv"


def _published(code: str, domain: str) -> dict:
    with FILE.open(encoding="utf-8-sig", newline="") as fh:
        (row,) = [r for r in csv.DictReader(fh) if r["area_code"] == code and r["index_domain"] == domain]
    return row


@pytest.mark.parametrize("code", ["E07000171", "E06000001", "E07000176"])  # Bassetlaw, Hartlepool, Rushcliffe
def test_every_domain_of_a_district_is_as_published(code):
    t = imd2025.district_summaries()
    mine = t[t["code"] == code].set_index("domain")
    assert list(mine.index) == list(imd2025.DOMAINS)
    for domain in imd2025.DOMAINS:
        row = _published(code, domain)
        got = mine.loc[domain]
        assert got["average_score"] == float(row["average_score"])
        assert got["rank_of_average_score"] == int(row["rank_average_score"])
        assert got["share_most_deprived_10"] == float(row["proportion_bottom_decile"])
        assert got["average_rank"] == float(row["average_rank"]) and got["name"] == row["area_name"]
    assert set(t["period"]) == {"2025"} and t["source"].str.startswith("imd2025/").all()
    assert t["code"].nunique() == 296 and len(t) == 2960


def _broken(project, old: str, new: str) -> None:
    path = project / "data" / "raw" / "imd2025" / FILE.name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    clear_caches()


def test_a_share_above_one_is_refused_naming_row_and_rule(project):
    # Hartlepool's IMD row: share of small areas in the most deprived 10% 0.4211 -> 4.211
    _broken(project, "37.58,6,0.4211,3", "37.58,6,4.211,3")
    with pytest.raises(InputError) as exc:
        imd2025.district_summaries()
    msg = exc.value.message
    assert "a share of small areas is between 0 and 1" in msg and "row 2" in msg and "proportion_bottom_decile" in msg


def test_an_unknown_domain_is_refused_with_the_list(project):
    _broken(project, "Index of Multiple Deprivation,23075.98", "Index of Multiple Deprivation (IMD),23075.98")
    with pytest.raises(InputError) as exc:
        imd2025.district_summaries()
    assert "an unknown domain 'Index of Multiple Deprivation (IMD)'" in exc.value.message
    assert "row 2, column 'index_domain'" in exc.value.message
