"""The indicator taxonomy: coded indicators, their groups, labels and weights."""

from __future__ import annotations

from typing import Literal

import msgspec

Language = Literal["en", "ru", "kk"]


class Labels(msgspec.Struct, frozen=True):
    en: str
    ru: str
    kk: str


class Group(msgspec.Struct, frozen=True):
    code: str
    family: str
    labels: Labels


class Indicator(msgspec.Struct, frozen=True):
    code: str
    group: str
    labels: Labels
    weight: int
    source: str


class TaxonomyDocument(msgspec.Struct, frozen=True):
    version: int
    groups: list[Group]
    indicators: list[Indicator]


class Taxonomy:
    """The taxonomy as loaded, indexed by indicator code."""

    def __init__(self, document: TaxonomyDocument) -> None:
        groups = {g.code for g in document.groups}
        self.document = document
        self.version = document.version
        self.groups = document.groups
        self.indicators = {i.code: i for i in document.indicators}
        if len(self.indicators) != len(document.indicators):
            raise ValueError("indicator codes must be unique")
        orphans = [i.code for i in document.indicators if i.group not in groups]
        if orphans:
            raise ValueError(f"indicators in unknown groups: {orphans}")

    @classmethod
    def empty(cls) -> Taxonomy:
        """No indicators: for reading stored profiles, which never need the weights."""
        return cls(TaxonomyDocument(version=0, groups=[], indicators=[]))

    @classmethod
    def from_json(cls, data: bytes) -> Taxonomy:
        return cls(msgspec.json.decode(data, type=TaxonomyDocument))

    def __contains__(self, code: object) -> bool:
        return code in self.indicators
