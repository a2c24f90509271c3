"""Sectors and the fixed catalogue of item types, each with its one unit.

The catalogue is code, not data: a request, a pledge and a standby asset name an item by
its code, and the unit comes from here, so "300 tents" always means the same thing and
sums per item are meaningful. Sector codes follow the humanitarian cluster names (and
are what the HXL ``#sector`` column carries).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
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
        Item("family_tent", Sector.SHELTER, "Family tent", Unit.PIECE),
        Item("tarpaulin", Sector.SHELTER, "Tarpaulin", Unit.PIECE),
        Item("shelter_kit", Sector.SHELTER, "Shelter tool kit", Unit.KIT),
        Item("blanket", Sector.SHELTER, "Blanket", Unit.PIECE),
        Item("rice", Sector.FOOD, "Rice", Unit.TONNE),
        Item("food_ration", Sector.FOOD, "Family food ration (7 days)", Unit.KIT),
        Item("ready_meal", Sector.FOOD, "Ready-to-eat meal", Unit.PIECE),
        Item("drinking_water", Sector.WASH, "Bottled drinking water", Unit.LITRE),
        Item("water_purification_unit", Sector.WASH, "Water purification unit", Unit.PIECE),
        Item("hygiene_kit", Sector.WASH, "Family hygiene kit", Unit.KIT),
        Item("latrine", Sector.WASH, "Emergency latrine", Unit.PIECE),
        Item("emergency_medical_team", Sector.HEALTH, "Emergency medical team", Unit.TEAM),
        Item("medical_kit", Sector.HEALTH, "Emergency health kit", Unit.KIT),
        Item("field_hospital", Sector.HEALTH, "Field hospital", Unit.PIECE),
        Item("dignity_kit", Sector.PROTECTION, "Dignity kit", Unit.KIT),
        Item("protection_officer", Sector.PROTECTION, "Protection officer", Unit.PERSON),
        Item("truck", Sector.LOGISTICS, "Truck with driver", Unit.VEHICLE),
        Item("cargo_flight", Sector.LOGISTICS, "Cargo flight", Unit.FLIGHT),
        Item("vessel", Sector.LOGISTICS, "Vessel", Unit.VESSEL),
        Item("usar_team", Sector.SAR, "Urban search and rescue team", Unit.TEAM),
        Item("maritime_sar_unit", Sector.SAR, "Maritime search and rescue unit", Unit.VESSEL),
        Item("satellite_phone", Sector.TELECOMS, "Satellite phone", Unit.PIECE),
        Item("vsat_terminal", Sector.TELECOMS, "VSAT terminal", Unit.PIECE),
        Item("telecoms_expert", Sector.TELECOMS, "Telecoms expert", Unit.PERSON_DAY),
        Item("cash_grant", Sector.FUNDS, "Cash contribution", Unit.USD),
    ]
}

ITEM_CHOICES = [(item.code, item.label) for item in ITEMS.values()]


def items_for(sector: str) -> list[Item]:
    return [item for item in ITEMS.values() if item.sector == sector]


def unit_of(item_code: str) -> str:
    return ITEMS[item_code].unit
