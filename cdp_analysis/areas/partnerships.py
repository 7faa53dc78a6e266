"""A Combating Drugs Partnership (CDP): one or more current upper-tier areas reported together.

:class:`Partnership` holds a CDP's identity (slug, name, members), its settings and the chapters it runs, and
knows how its areas feed the areas a chapter reports on. Which CDPs exist and what their params files say is
read by :mod:`cdp_analysis.chapters.partnerships` (the settings schema comes from the chapter registry, a layer above
this one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from .. import paths
from ..errors import InputError
from . import geography
from .params import CommonSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Partnership:
    """A CDP and the settings its run uses.

    Attributes
    ----------
    slug : str
        Identifier used on the command line and as the output folder name.
    name : str
        Name in words.
    members : tuple of str
        Current upper-tier area codes.
    settings : CommonSettings
        Defaults with this CDP's overrides applied: run-wide keys and one section per chapter.
    source : str
        'params/cdps/<slug>.yaml' for a named CDP, 'single area' otherwise.
    member_names : tuple of str
        Names of the members, in the order of ``members``.
    chapter_list : tuple
        The chapters this CDP runs, in report order (chosen by the registry from ``chapters:`` in its settings).
    """

    slug: str
    name: str
    members: tuple[str, ...]
    settings: CommonSettings
    source: str = "single area"
    member_names: tuple[str, ...] = field(default=())
    chapter_list: tuple = field(default=(), repr=False)

    def __post_init__(self):
        # the last guard: whoever builds a Partnership, its slug can name a folder inside the output root only
        paths.check_slug(self.slug)

    @property
    def key(self) -> str:
        """How to name this CDP again (:func:`get`): the path of its params file if it is defined outside
        ``params/cdps/`` (absolute), else its slug."""
        if self.source.endswith((".yaml", ".yml")) and not self.source.startswith("params/cdps/"):
            return str(paths.project_root() / self.source)  # an absolute source stays as it is
        return self.slug

    @property
    def code(self) -> str:
        """The CDP's ``area_code`` in tables: its member's ONS code, or its slug for a multi-area CDP.

        A multi-area CDP has no ONS code; its tables carry the slug with ``area_type`` 'Combating Drugs
        Partnership' and the members in ``area_members`` (never a made-up code such as 'E06000061+E06000062').
        """
        return self.members[0] if len(self.members) == 1 else self.slug

    @property
    def area_type(self) -> str:
        """The CDP's ``area_type`` in tables: its member's (e.g. 'County') or 'Combating Drugs Partnership'."""
        return geography.area_type_of([self.members[0]])[0] if len(self.members) == 1 else geography.CDP_AREA_TYPE

    @property
    def members_text(self) -> str:
        """The members' codes as the tables' ``area_members`` lists them: 'E06000061; E06000062'."""
        return "; ".join(self.members)

    def reporting_areas(self) -> pd.DataFrame:
        """How each published area feeds the areas a chapter reports on.

        Returns
        -------
        DataFrame
            One row per (published area ``code``, reporting area): ``code`` → ``area_code, area_name,
            area_type, area_role, area_members``. The CDP (role 'cdp') is the sum of its members, so it has
            one row per member; a multi-area CDP's members are also reported one by one (role 'member');
            then the members' region(s) ('region') and England ('england'). ``area_members`` is filled on
            the CDP's rows only.
        """
        reg = geography.areas().set_index("code")
        rows = [{"code": m, "area_code": self.code, "area_name": self.name, "area_type": self.area_type,
                 "area_role": "cdp", "area_members": self.members_text} for m in self.members]
        if len(self.members) > 1:
            rows += [{"code": m, "area_code": m, "area_name": reg.loc[m, "name"], "area_role": "member"}
                     for m in self.members]
        for rc in sorted({reg.loc[m, "region_code"] for m in self.members}):
            rows.append({"code": rc, "area_code": rc, "area_name": reg.loc[rc, "name"], "area_role": "region"})
        rows.append({"code": geography.ENGLAND_CODE, "area_code": geography.ENGLAND_CODE, "area_name": "England",
                     "area_role": "england"})
        out = pd.DataFrame(rows)
        missing = out["area_type"].isna()
        out.loc[missing, "area_type"] = geography.area_type_of(out.loc[missing, "code"])
        return out.fillna({"area_members": ""})

    def chapter_settings(self, name: str):
        """This CDP's settings for one chapter."""
        return getattr(self.settings, name)

    def chapters(self) -> list:
        """The chapters this CDP runs, in report order (``chapters:`` in params, default every chapter)."""
        return list(self.chapter_list)


def check_comparators(settings: CommonSettings, members, *, file=None, where: str = "key 'comparators'") -> None:
    """An analyst's comparator areas must be distinct current upper-tier areas, none of them a member."""
    if settings.comparators is None:
        return
    codes = settings.comparators.areas
    geography.check_upper_tier_codes(codes, file=file, where=f"{where}, 'areas'")
    inside = [c for c in codes if c in set(members)]
    if inside:
        raise InputError(f"'{inside[0]}' ({geography.name_of(inside[0])}) is a member of the CDP, so it cannot be "
                         "one of its comparators", file=file, where=f"{where}, 'areas'",
                         hint="list areas outside the partnership")
