"""Shared fixtures: the people of healthchecks' alice/bob/charlie, HopLuc-style.

`world` builds two provinces, a lead agency (police), a receiving agency (health), an unrelated
agency (education, other province), and users in every role, through the real services.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from agencies.models import AnalystScope, Province, Sector
from agencies.services import agency_create, membership_add

PASSWORD = "correct-horse-battery-staple"


@dataclass
class World:
    hanoi: Province
    hue: Province
    police: object
    health: object
    school: object
    lead_responder: object
    lead_supervisor: object
    lead_admin: object
    receiving_responder: object
    receiving_supervisor: object
    outsider_responder: object
    outsider_supervisor: object
    analyst: object
    province_analyst: object
    sysadmin: object


def make_user(username: str, **extra):
    User = get_user_model()
    return User.objects.create_user(username=username, password=PASSWORD, **extra)


@pytest.fixture
def world(db) -> World:
    hanoi = Province.objects.create(
        code="01", name="Hà Nội", name_ascii="Ha Noi", abbreviation="HN", type="city", valid_from="2025-07-01"
    )
    hue = Province.objects.create(
        code="46", name="Huế", name_ascii="Hue", abbreviation="HUE", type="city", valid_from="2025-07-01"
    )
    police = agency_create(name="Công an phường Ba Đình", sector=Sector.POLICE, province=hanoi)
    health = agency_create(name="Bệnh viện Đa khoa Hà Nội", sector=Sector.HEALTH, province=hanoi)
    school = agency_create(name="Trường THCS Thuận Hóa", sector=Sector.EDUCATION, province=hue)
    users = {}
    for name, agency, role in [
        ("lead_responder", police, "responder"),
        ("lead_supervisor", police, "supervisor"),
        ("lead_admin", police, "agency_admin"),
        ("receiving_responder", health, "responder"),
        ("receiving_supervisor", health, "supervisor"),
        ("outsider_responder", school, "responder"),
        ("outsider_supervisor", school, "supervisor"),
    ]:
        users[name] = make_user(name)
        membership_add(user=users[name], agency=agency, role=role)
    analyst = make_user("analyst")
    AnalystScope.objects.create(user=analyst, province=None)
    province_analyst = make_user("province_analyst")
    AnalystScope.objects.create(user=province_analyst, province=hanoi)
    sysadmin = get_user_model().objects.create_superuser(username="sysadmin", password=PASSWORD)
    return World(
        hanoi=hanoi, hue=hue, police=police, health=health, school=school, analyst=analyst,
        province_analyst=province_analyst, sysadmin=sysadmin, **users,
    )
