"""The places inside a partnership: a county's current districts, a multi-unitary partnership's unitaries, none
for a single unitary; districts read from the published MYE2 hierarchy, abolished districts never a place."""

from __future__ import annotations

from cdp_analysis.areas import places
from cdp_analysis.chapters import partnerships


def test_a_county_has_its_seven_districts():
    p = places.places(partnerships.get("nottinghamshire"))
    assert list(p["name"]) == ["Ashfield", "Bassetlaw", "Broxtowe", "Gedling", "Mansfield", "Newark and Sherwood",
                               "Rushcliffe"]
    assert set(p["kind"]) == {places.DISTRICT} and set(p["member_code"]) == {"E10000024"}
    assert list(p["code"]) == [f"E0700017{i}" for i in range(7)]


def test_a_two_unitary_partnership_has_its_unitaries_and_a_single_unitary_none():
    p = places.places(partnerships.get("northamptonshire"))
    assert list(p["code"]) == ["E06000061", "E06000062"] and set(p["kind"]) == {places.UNITARY}
    assert places.places(partnerships.get("barnet")).empty


def test_abolished_districts_are_never_places():
    current = places.current_districts()
    cumbria_districts = {"E07000026", "E07000027", "E07000028", "E07000029", "E07000030", "E07000031"}
    assert not cumbria_districts & set(current["code"])
    assert current["county"].notna().all() and current["county"].str.startswith("E10").all()
