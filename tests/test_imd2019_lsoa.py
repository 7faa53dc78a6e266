"""IMD 2019 File 1 (every small area's national rank and decile): read as published, and the share of each
district's small areas in the most deprived 10% equal to MHCLG's own district summaries (an independent
publication, read here from ../shared/data, not registered)."""

from __future__ import annotations

import csv

import openpyxl
import pytest
from conftest import REPO

from cdp_analysis import clear_caches
from cdp_analysis.data import imd2019_lsoa
from cdp_analysis.errors import InputError

FILE = REPO / "data" / "raw" / "imd2019" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.xlsx"
SUMMARIES = REPO.parent / "shared" / "data" / "imd2019" / "IoD2019_LAD19_summaries_all_domains.csv"


def test_small_areas_are_as_published():
    t = imd2019_lsoa.small_areas().set_index("lsoa")
    ws = openpyxl.load_workbook(FILE, read_only=True)["IMD2019"]
    rows = list(ws.iter_rows(min_row=2, max_row=4, values_only=True))
    for code, name, district, _, rank, decile in rows:
        assert (t.loc[code, "lsoa_name"], t.loc[code, "district_code"]) == (name, district)
        assert (t.loc[code, "rank"], t.loc[code, "decile"]) == (rank, decile)
    assert len(t) == imd2019_lsoa.N_SMALL_AREAS


@pytest.mark.skipif(not SUMMARIES.is_file(), reason="../shared/data is not beside the repository")
def test_shares_in_the_most_deprived_tenth_equal_mhclg_district_summaries():
    with SUMMARIES.open(encoding="utf-8-sig", newline="") as fh:
        published = {r["lad19cd"]: float(r["proportion_bottom_decile"]) for r in csv.DictReader(fh)
                     if r["index_domain"] == "Index of Multiple Deprivation"}
    mine = imd2019_lsoa.district_shares().set_index("district_code")["share_most_deprived_10"]
    assert set(mine.index) == set(published) and len(mine) == 317
    worst = max(abs(mine[c] - published[c]) for c in published)
    assert worst < 0.00006, worst  # MHCLG rounds to 4 decimals
    assert mine["E06000001"] == pytest.approx(0.3621, abs=5e-5)  # Hartlepool


def test_a_decile_that_does_not_follow_the_rank_is_refused(project):
    path = project / "data" / "raw" / "imd2019" / FILE.name
    wb = openpyxl.load_workbook(path)
    ws = wb["IMD2019"]
    ws["F2"] = 3 if ws["F2"].value != 3 else 4  # City of London 001A: rank 29,199 is in decile 9
    wb.save(path)
    clear_caches()
    with pytest.raises(InputError) as exc:
        imd2019_lsoa.small_areas()
    assert "the decile is the rank's tenth" in exc.value.message and "sheet 'IMD2019', row 2" in exc.value.message
