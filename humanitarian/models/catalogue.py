"""Sectors and the fixed catalogue of item types, each with its one unit.

The catalogue is code, not data: a request, a pledge and a standby asset name an item by
its code, and the unit comes from here, so "300 tents" always means the same thing and
sums per item are meaningful. Sector codes follow the humanitarian cluster names (and
are what the HXL ``#sector`` column carries).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy, gettext_noop
from django.utils.translation import gettext_lazy as _


class Sector(models.TextChoices):
    SHELTER = "shelter", _("Shelter")
    FOOD = "food", _("Food security")
    WASH = "wash", _("Water, sanitation and hygiene")
    HEALTH = "health", _("Health")
    PROTECTION = "protection", _("Protection")
    LOGISTICS = "logistics", _("Logistics and transport")
    SAR = "sar", _("Search and rescue")
    TELECOMS = "telecoms", _("Emergency telecommunications")
    FUNDS = "funds", _("Funds")


class Unit(models.TextChoices):
    PIECE = "piece", _("pieces")
    KIT = "kit", _("kits")
    TONNE = "tonne", _("tonnes")
    LITRE = "litre", _("litres")
    TEAM = "team", _("teams")
    PERSON = "person", _("persons")
    VEHICLE = "vehicle", _("vehicles")
    FLIGHT = "flight", _("flights")
    VESSEL = "vessel", _("vessels")
    PERSON_DAY = "person_day", _("person-days")
    USD = "usd", _("USD")


@dataclass(frozen=True)
class Item:
    code: str
    sector: str
    label: str
    unit: str


#: The fixed list of item types, per sector, with their unit.
ITEMS: dict[str, Item] = {
    item.code: item
    for item in [
        Item("family_tent", Sector.SHELTER, gettext_noop("Family tent"), Unit.PIECE),
        Item("tarpaulin", Sector.SHELTER, gettext_noop("Tarpaulin"), Unit.PIECE),
        Item("shelter_kit", Sector.SHELTER, gettext_noop("Shelter tool kit"), Unit.KIT),
        Item("blanket", Sector.SHELTER, gettext_noop("Blanket"), Unit.PIECE),
        Item("rice", Sector.FOOD, gettext_noop("Rice"), Unit.TONNE),
        Item("food_ration", Sector.FOOD, gettext_noop("Family food ration (7 days)"), Unit.KIT),
        Item("ready_meal", Sector.FOOD, gettext_noop("Ready-to-eat meal"), Unit.PIECE),
        Item("drinking_water", Sector.WASH, gettext_noop("Bottled drinking water"), Unit.LITRE),
        Item(
            "water_purification_unit",
            Sector.WASH,
            gettext_noop("Water purification unit"),
            Unit.PIECE,
        ),
        Item("hygiene_kit", Sector.WASH, gettext_noop("Family hygiene kit"), Unit.KIT),
        Item("latrine", Sector.WASH, gettext_noop("Emergency latrine"), Unit.PIECE),
        Item(
            "emergency_medical_team",
            Sector.HEALTH,
            gettext_noop("Emergency medical team"),
            Unit.TEAM,
        ),
        Item("medical_kit", Sector.HEALTH, gettext_noop("Emergency health kit"), Unit.KIT),
        Item("field_hospital", Sector.HEALTH, gettext_noop("Field hospital"), Unit.PIECE),
        Item("dignity_kit", Sector.PROTECTION, gettext_noop("Dignity kit"), Unit.KIT),
        Item(
            "protection_officer", Sector.PROTECTION, gettext_noop("Protection officer"), Unit.PERSON
        ),
        Item("truck", Sector.LOGISTICS, gettext_noop("Truck with driver"), Unit.VEHICLE),
        Item("cargo_flight", Sector.LOGISTICS, gettext_noop("Cargo flight"), Unit.FLIGHT),
        Item("vessel", Sector.LOGISTICS, gettext_noop("Vessel"), Unit.VESSEL),
        Item("usar_team", Sector.SAR, gettext_noop("Urban search and rescue team"), Unit.TEAM),
        Item(
            "maritime_sar_unit",
            Sector.SAR,
            gettext_noop("Maritime search and rescue unit"),
            Unit.VESSEL,
        ),
        Item("satellite_phone", Sector.TELECOMS, gettext_noop("Satellite phone"), Unit.PIECE),
        Item("vsat_terminal", Sector.TELECOMS, gettext_noop("VSAT terminal"), Unit.PIECE),
        Item("telecoms_expert", Sector.TELECOMS, gettext_noop("Telecoms expert"), Unit.PERSON_DAY),
        Item("cash_grant", Sector.FUNDS, gettext_noop("Cash contribution"), Unit.USD),
    ]
}

# Labels in English here (exports, the API); translated where a person reads them.
ITEM_CHOICES = [(item.code, gettext_lazy(item.label)) for item in ITEMS.values()]


def items_for(sector: str) -> list[Item]:
    return [item for item in ITEMS.values() if item.sector == sector]


def unit_of(item_code: str) -> str:
    return ITEMS[item_code].unit
