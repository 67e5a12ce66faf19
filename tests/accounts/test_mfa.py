"""Second factor: required per role (Django admin included), the code step, enrolment with recovery
codes, reset by the agency admin, the agency's own requirement, and the published helpers.

Evidence for issue 11 part 1: without SecondFactorGateMiddleware every "reaches nothing else" test
below fails (a supervisor reaches the case pages, the API and the admin with a password alone).
Sessions here are signed in through the form, never marked as verified by the test helper.
"""

import base64
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.mfa import (
    DEMO_TOTP_SECRET,
    demo_totp_code,
    mfa_required_for,
    mfa_status,
    seed_demo_second_factor_step,
    verify_code,
)
from agencies.models import Agency, Membership, Role
from agencies.services import membership_add
from audit.models import AuditAction, AuditEvent
from tests.conftest import PASSWORD, authenticator_for, current_code, make_user

pytestmark = [pytest.mark.real_second_factor, pytest.mark.usefixtures("english_pages")]

SETUP = "/account/second-factor/"
CODE = "/login/code/"


def password_only(username: str) -> Client:
    """A browser that gave the right password and nothing more."""
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def grant_break_glass(user) -> None:
    user.user_permissions.add(Permission.objects.get(codename="break_glass", content_type__app_label="permissions"))


def required_people(world) -> dict:
    grant_break_glass(world.outsider_responder)
    strict = make_user("strict_responder")
    membership_add(user=strict, agency=world.health, role=Role.RESPONDER)
    Agency.objects.filter(pk=world.health.pk).update(mfa_required=True)
    return {
        "supervisor": world.lead_supervisor,
        "agency admin": world.lead_admin,
        "national analyst": world.analyst,
        "provincial analyst": world.province_analyst,
        "system administrator": world.sysadmin,
        "break-glass holder": world.outsider_responder,
        "responder of an agency that requires it": strict,
    }


# --- who must --------------------------------------------------------------------------------------


def test_mfa_required_for_each_role(world):
    required = required_people(world)
    assert all(mfa_required_for(user) for user in required.values())
    assert not mfa_required_for(world.lead_responder)
    assert mfa_required_for(world.receiving_responder)  # the health agency requires it now
    Agency.objects.filter(pk=world.health.pk).update(mfa_required=False)
    assert not mfa_required_for(world.receiving_responder)


def _changes_one_at_a_time(world, responder):
    """Each change that decides the gate, made in turn (and the one before undone): the break-glass right
    through a group, an enrolment, its removal, the agency's requirement. Yields the change's name."""
    from django.contrib.auth.models import Group

    group = Group.objects.create(name="emergency doctors")
    group.permissions.add(Permission.objects.get(codename="break_glass", content_type__app_label="permissions"))
    responder.groups.add(group)
    yield "break-glass group"
    responder.groups.remove(group)
    device = authenticator_for(responder)
    yield "enrolled"
    device.delete()
    yield "device deleted"
    Agency.objects.filter(pk=world.police.pk).update(mfa_required=True)
    yield "agency requires"


def test_the_gate_asks_one_query_and_every_change_counts_on_the_next_request(world, django_assert_num_queries):
    """What the gate reads for a session that gave no code (issue 15: it was five queries on every
    request): one query, read fresh, so a new role, an agency's requirement, the break-glass right
    (through a group too) or an enrolment apply on the very next request."""

    for user in required_people(world).values():
        with django_assert_num_queries(1):
            assert mfa_status(user) == (True, False)
    responder = world.lead_responder
    with django_assert_num_queries(1):
        assert mfa_status(responder) == (False, False)
    expected = {"break-glass group": (True, False), "enrolled": (True, True), "device deleted": (False, False),
                "agency requires": (True, False)}
    for change in _changes_one_at_a_time(world, responder):
        assert mfa_status(responder) == expected[change], change


def test_the_user_row_read_carries_the_same_facts(world):
    """A request of a session that gave no code reads its user with the gate's facts in the same
    statement (accounts.mfa.user_with_mfa_facts): the same facts as the gate's own query, every change
    included, and the same user."""

    from accounts.mfa import _mfa_facts, user_with_mfa_facts

    def same(user):
        read, facts = user_with_mfa_facts(user.pk)
        assert read.pk == user.pk and read.password == user.password
        assert facts == _mfa_facts(user)
        return facts

    for user in required_people(world).values():
        same(user)
    responder = world.lead_responder
    assert same(responder) == (False, False)
    expected = {"break-glass group": (True, False), "enrolled": (False, True),  # required by nothing, enrolled
                "device deleted": (False, False), "agency requires": (True, False)}
    for change in _changes_one_at_a_time(world, responder):
        assert same(responder) == expected[change], change
    assert user_with_mfa_facts(responder.pk + 100000) == (None, (False, False))


def test_a_request_without_a_code_reads_the_gate_s_facts_with_its_user(world):
    """No separate gate query: one statement reads the user and the facts; the gate still answers."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = password_only("lead_responder")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/me/").status_code == 200
    totp = [q["sql"] for q in captured.captured_queries if "otp_totp_totpdevice" in q["sql"]]
    assert len(totp) == 1 and '"auth_user"' in totp[0] and '"password"' in totp[0], totp
    Agency.objects.filter(pk=world.police.pk).update(mfa_required=True)
    assert client.get("/api/me/").status_code == 403
    assert client.get("/work/").status_code == 302


PAGES = ["/", "/work/", "/supervision/", "/staff/", "/reports/", "/cases/", "/handoffs/incoming/",
         "/notifications/", "/break-glass/", "/admin/", "/admin/auth/user/"]


@pytest.mark.parametrize("who", [
    "supervisor", "agency admin", "national analyst", "provincial analyst", "system administrator",
    "break-glass holder", "responder of an agency that requires it",
])
def test_a_password_alone_reaches_nothing_for_roles_that_need_a_second_factor(world, who):
    user = required_people(world)[who]
    client = password_only(user.username)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(SETUP), (path, response["Location"])
    api = client.get("/api/me/")
    assert api.status_code == 403
    assert "second factor" in api.json()["detail"]
    assert client.get("/api/cases/").status_code == 403
    # Once enrolled, the same session is sent to the code step instead, keeping where it was going.
    authenticator_for(user)
    response = client.get("/cases/")
    assert response.status_code == 302 and response["Location"] == f"{CODE}?next=%2Fcases%2F"


def test_a_responder_who_needs_none_signs_in_with_a_password(world):
    client = password_only("lead_responder")
    assert client.get("/work/").status_code == 200
    assert client.get("/api/me/").status_code == 200
    # The Django admin wants a second factor from everyone.
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(SETUP)


def test_a_responder_who_enrolled_of_their_own_accord_is_asked_for_the_code(world):
    authenticator_for(world.lead_responder)
    client = password_only("lead_responder")
    response = client.get("/work/")
    assert response.status_code == 302 and response["Location"].startswith(CODE)


# --- the code step ---------------------------------------------------------------------------------


def test_the_code_step_with_a_wrong_then_the_right_code(world):
    device = authenticator_for(world.lead_supervisor)
    client = password_only("lead_supervisor")
    response = client.get("/supervision/")
    assert response["Location"] == f"{CODE}?next=%2Fsupervision%2F"
    page = client.get(response["Location"])
    assert page.status_code == 200 and 'name="code"' in page.content.decode()

    before = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count()
    wrong = client.post(CODE, {"code": "000000", "next": "/supervision/"})
    assert wrong.status_code == 400
    assert "The code is not correct" in wrong.content.decode()
    failed = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("-seq").first()
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() == before + 1
    assert failed.details == {"username": "lead_supervisor"}
    assert client.get("/supervision/").status_code == 302

    code = current_code(device)
    right = client.post(CODE, {"code": code, "next": "/supervision/"})
    assert right.status_code == 302 and right["Location"] == "/supervision/"
    assert client.get("/supervision/").status_code == 200
    assert client.get("/api/me/").status_code == 200

    # The same code cannot be used a second time, even in another browser.
    other = password_only("lead_supervisor")
    assert other.post(CODE, {"code": code}).status_code == 400
    assert other.get("/supervision/").status_code == 302


def test_an_offsite_next_is_not_followed(world):
    device = authenticator_for(world.lead_supervisor)
    client = password_only("lead_supervisor")
    response = client.post(CODE, {"code": current_code(device), "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:home")


def test_a_recovery_code_works_once(world):
    client = password_only("lead_admin")
    page = client.get(SETUP)
    pending = TOTPDevice.objects.get(user=world.lead_admin, confirmed=False)
    assert page.status_code == 200
    shown = client.post(SETUP, {"code": current_code(pending)})
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", shown.content.decode())
    assert len(codes) == 10

    again = password_only("lead_admin")
    assert again.post(CODE, {"code": codes[0].upper()[:4] + "-" + codes[0].upper()[4:]}).status_code == 302
    assert again.get("/staff/").status_code == 200
    third = password_only("lead_admin")
    assert third.post(CODE, {"code": codes[0]}).status_code == 400
    assert StaticToken.objects.filter(device__user=world.lead_admin).count() == 9


# --- enrolment -------------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_recovery_codes_once(world):
    client = password_only("lead_supervisor")
    page = client.get(SETUP + "?next=/supervision/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and 'data-testid="mfa-qr"' in html
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    assert page["Cache-Control"].startswith("max-age=0") or "no-store" in page["Cache-Control"]
    pending = TOTPDevice.objects.get(user=world.lead_supervisor, confirmed=False)
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == pending.bin_key
    # Reloading shows the same pending secret rather than a new one.
    assert secret in client.get(SETUP).content.decode().replace(" ", "")

    wrong = client.post(SETUP, {"code": "123456", "next": "/supervision/"})
    assert wrong.status_code == 400
    assert not TOTPDevice.objects.filter(user=world.lead_supervisor, confirmed=True).exists()

    done = client.post(SETUP, {"code": current_code(pending), "next": "/supervision/"})
    assert done.status_code == 200
    body = done.content.decode()
    assert len(re.findall(r"<li><code>[a-z2-7]{8}</code></li>", body)) == 10
    assert 'href="/supervision/"' in body
    assert "no-store" in done["Cache-Control"]
    assert TOTPDevice.objects.get(user=world.lead_supervisor).confirmed
    assert StaticDevice.objects.get(user=world.lead_supervisor).token_set.count() == 10
    assert client.get("/supervision/").status_code == 200
    event = AuditEvent.objects.filter(target=f"user:{world.lead_supervisor.pk}", action=AuditAction.CREATE).get()
    assert event.details == {"second_factor": "enrolled"}

    # The status page; new recovery codes replace the old ones.
    status = client.get(SETUP)
    assert "You have 10 recovery codes left." in status.content.decode()
    old = set(StaticToken.objects.values_list("token", flat=True))
    client.post(SETUP)
    assert not old & set(StaticToken.objects.values_list("token", flat=True))


def test_a_password_alone_cannot_replace_an_enrolled_authenticator(world):
    """Whoever knows the password must not enrol their own phone over the person's."""
    authenticator_for(world.lead_supervisor)
    client = password_only("lead_supervisor")
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"] == CODE
    assert client.post(SETUP, {"code": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=world.lead_supervisor).count() == 1


def test_the_pages_of_the_second_factor_need_a_signed_in_person(client, world):
    for path in (SETUP, CODE):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- Django admin ----------------------------------------------------------------------------------


def test_django_admin_needs_the_second_factor(world):
    device = authenticator_for(world.sysadmin)
    client = password_only("sysadmin")
    response = client.get("/admin/auth/user/")
    assert response.status_code == 302 and response["Location"].startswith(CODE)
    assert client.post(CODE, {"code": current_code(device), "next": "/admin/auth/user/"}).status_code == 302
    assert client.get("/admin/auth/user/").status_code == 200


def test_the_admin_sign_in_form_is_hopluc_s(client, world):
    response = client.get("/admin/")
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"] == "/login/?next=%2Fadmin%2F"
    # The admin's password-only form cannot be used to sign in.
    client.post("/admin/login/", {"username": "sysadmin", "password": PASSWORD})
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert "_auth_user_id" not in client.session


def test_a_verified_non_staff_person_is_refused_by_the_admin_without_a_loop(world):
    device = authenticator_for(world.lead_supervisor)
    client = password_only("lead_supervisor")
    client.post(CODE, {"code": current_code(device)})
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403


# --- reset by the agency admin -----------------------------------------------------------------------


def admin_session(world, user=None) -> Client:
    user = user or world.lead_admin
    device = authenticator_for(user)
    client = password_only(user.username)
    assert client.post(CODE, {"code": current_code(device)}).status_code == 302
    return client


def reset_url(world, user, agency=None) -> str:
    agency = agency or world.police
    membership = Membership.objects.get(user=user, agency=agency)
    return reverse("agencies:staff_mfa_reset", args=[agency.pk, membership.pk])


def test_the_agency_admin_resets_a_lost_phone(world):
    authenticator_for(world.lead_supervisor)
    client = admin_session(world)
    page = client.get(reverse("agencies:staff", args=[world.police.pk])).content.decode()
    assert 'data-testid="mfa-reset-lead_supervisor"' in page
    response = client.post(reset_url(world, world.lead_supervisor))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.lead_supervisor).exists()
    event = AuditEvent.objects.get(action=AuditAction.REVOKE, target=f"user:{world.lead_supervisor.pk}")
    assert event.actor == world.lead_admin and event.agency_id == world.police.pk
    assert event.details == {"second_factor": "reset", "username": "lead_supervisor"}
    # The person enrols again at the next sign-in.
    again = password_only("lead_supervisor")
    assert again.get("/supervision/")["Location"].startswith(SETUP)


def test_reset_refused_to_everyone_else(world):
    authenticator_for(world.lead_supervisor)
    url = reset_url(world, world.lead_supervisor)
    assert Client().post(url).status_code == 302  # anonymous: to the sign-in page
    other_admin = make_user("health_admin")
    membership_add(user=other_admin, agency=world.health, role=Role.AGENCY_ADMIN)
    assert admin_session(world, other_admin).post(url).status_code == 404
    assert admin_session(world, world.lead_supervisor).post(url).status_code == 403
    assert admin_session(world, world.analyst).post(url).status_code == 403
    # A person of another agency, through the admin's own agency id: not found.
    outsider = reset_url(world, world.outsider_supervisor, agency=world.school)
    assert admin_session(world).post(outsider).status_code == 404
    assert TOTPDevice.objects.filter(user=world.lead_supervisor).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.REVOKE).exists()


def test_a_system_administrator_s_second_factor_is_not_reset_from_the_staff_page(world):
    # A system administrator never works on cases (permissions/README.md, rule 2), but may help run
    # an agency's staff.
    membership_add(user=world.sysadmin, agency=world.police, role=Role.AGENCY_ADMIN)
    authenticator_for(world.sysadmin)
    admin_session(world).post(reset_url(world, world.sysadmin))
    assert TOTPDevice.objects.filter(user=world.sysadmin).exists()


def test_the_operator_command_resets_with_a_reason(world):
    authenticator_for(world.sysadmin)
    with pytest.raises(CommandError):
        call_command("mfa_reset", "nobody", reason="ticket 42")
    call_command("mfa_reset", "sysadmin", reason="ticket 42")
    assert not TOTPDevice.objects.filter(user=world.sysadmin).exists()
    event = AuditEvent.objects.get(action=AuditAction.REVOKE)
    assert event.actor is None and event.reason == "ticket 42"


# --- the agency's own requirement ----------------------------------------------------------------------


def test_the_agency_admin_requires_a_second_factor_from_responders(world):
    url = reverse("agencies:mfa_setting", args=[world.police.pk])
    assert admin_session(world, world.lead_supervisor).post(url, {"mfa_required": "on"}).status_code == 403
    assert Client().post(url, {"mfa_required": "on"}).status_code == 302
    assert not Agency.objects.get(pk=world.police.pk).mfa_required

    client = admin_session(world)
    assert client.post(url, {"mfa_required": "on"}).status_code == 302
    assert Agency.objects.get(pk=world.police.pk).mfa_required
    event = AuditEvent.objects.get(action=AuditAction.CHANGE, target=f"agency:{world.police.pk}")
    assert event.details == {"mfa_required": True} and event.actor == world.lead_admin
    assert password_only("lead_responder").get("/work/")["Location"].startswith(SETUP)

    client.post(url, {})
    assert not Agency.objects.get(pk=world.police.pk).mfa_required
    assert password_only("lead_responder").get("/work/").status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.CHANGE, target=f"agency:{world.police.pk}").count() == 2


# --- the published helpers and the demo ------------------------------------------------------------------


def test_verify_code(world):
    user = world.lead_supervisor
    assert verify_code(user, "123456") is None  # no device
    device = authenticator_for(user)
    assert verify_code(user, "") is None
    assert verify_code(user, "not a code at all, far too long") is None
    assert verify_code(user, current_code(device)) == device
    user.is_active = False
    assert verify_code(user, current_code(device)) is None


def test_the_demo_world_enrols_the_published_secret_except_in_production(world, settings):
    class DemoWorld:
        users = {u.username: u for u in (world.lead_supervisor, world.lead_responder, world.sysadmin)}

    seed_demo_second_factor_step(DemoWorld)
    assert DemoWorld.demo_totp_secret == DEMO_TOTP_SECRET
    device = TOTPDevice.objects.get(user=world.lead_supervisor)
    assert device.bin_key == base64.b32decode(DEMO_TOTP_SECRET)
    assert TOTPDevice.objects.filter(user=world.sysadmin).exists()
    assert not TOTPDevice.objects.filter(user=world.lead_responder).exists()
    client = password_only("lead_supervisor")
    assert client.post(CODE, {"code": demo_totp_code()}).status_code == 302

    settings.DEMO_SECOND_FACTOR = False
    DemoWorld.users = {"analyst": world.analyst}
    seed_demo_second_factor_step(DemoWorld)
    assert DemoWorld.demo_totp_secret is None
    assert not TOTPDevice.objects.filter(user=world.analyst).exists()
    with pytest.raises(CommandError):
        call_command("demo_totp_code")
