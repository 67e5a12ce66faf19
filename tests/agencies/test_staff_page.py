"""The agency admin's staff page: happy paths, form errors, and every person who must be refused."""

import pytest
from django.urls import reverse

from agencies.models import Membership, Role
from agencies.services import agency_group_name, membership_add
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("english_pages")


def staff_url(agency) -> str:
    return reverse("agencies:staff", args=[agency.pk])


def member(world, user):
    return Membership.objects.get(user=user, agency=world.police)


def group_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def role_change(client, world, membership, role: str):
    """Post the role form of one row of the police staff page."""
    return client.post(reverse("agencies:staff_change_role", args=[world.police.pk, membership.pk]),
                       {f"m{membership.pk}-role": role})


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.lead_admin)
    return client


# --- who may see what ----------------------------------------------------------------------------


def endpoints(world):
    responder = member(world, world.lead_responder)
    return [
        ("get", staff_url(world.police), {}),
        ("post", reverse("agencies:staff_add_existing", args=[world.police.pk]),
         {"existing-username": "outsider_responder", "existing-role": "responder"}),
        ("post", reverse("agencies:staff_create", args=[world.police.pk]),
         {"new-username": "intruder", "new-full_name": "X", "new-email": "x@example.invalid", "new-role": "responder"}),
        ("post", reverse("agencies:staff_change_role", args=[world.police.pk, responder.pk]),
         {f"m{responder.pk}-role": "agency_admin"}),
        ("get", reverse("agencies:staff_remove", args=[world.police.pk, responder.pk]), {}),
        ("post", reverse("agencies:staff_remove", args=[world.police.pk, responder.pk]), {}),
    ]


def assert_nothing_changed(world):
    assert sorted(Membership.objects.filter(agency=world.police).values_list("user__username", "role")) == [
        ("lead_admin", "agency_admin"), ("lead_responder", "responder"), ("lead_supervisor", "supervisor"),
    ]
    assert not Membership.objects.filter(user=world.outsider_responder, agency=world.police).exists()


@pytest.mark.parametrize("who", ["lead_responder", "lead_supervisor", "receiving_supervisor", "analyst",
                                 "province_analyst", "sysadmin"])
def test_people_who_are_no_agency_admin_are_refused_everywhere(client, world, who):
    client.force_login(getattr(world, who))
    for method, url, data in endpoints(world):
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
    assert_nothing_changed(world)


def test_an_admin_of_another_agency_gets_not_found_everywhere(client, world):
    other_admin = make_user("health_admin")
    membership_add(user=other_admin, agency=world.health, role=Role.AGENCY_ADMIN)
    client.force_login(other_admin)
    for method, url, data in endpoints(world):
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url)
    assert_nothing_changed(world)


def test_anonymous_is_sent_to_sign_in(client, world):
    for method, url, data in endpoints(world):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("accounts:login"))
    assert_nothing_changed(world)


def test_an_admin_cannot_reach_a_membership_of_another_agency_through_their_own(admin_client, world):
    stranger = Membership.objects.get(user=world.receiving_responder)
    for name in ("staff_change_role", "staff_remove"):
        response = admin_client.post(reverse(f"agencies:{name}", args=[world.police.pk, stranger.pk]),
                                     {f"m{stranger.pk}-role": "agency_admin"})
        assert response.status_code == 404
    assert Membership.objects.get(pk=stranger.pk).role == Role.RESPONDER


def test_an_inactive_agency_is_not_managed(admin_client, world):
    world.police.active = False
    world.police.save()
    assert admin_client.get(staff_url(world.police)).status_code == 403


def test_get_is_not_allowed_on_the_post_only_endpoints(admin_client, world):
    assert admin_client.get(reverse("agencies:staff_add_existing", args=[world.police.pk])).status_code == 405
    assert admin_client.get(reverse("agencies:staff_create", args=[world.police.pk])).status_code == 405


# --- the list ------------------------------------------------------------------------------------


def test_the_staff_list_shows_the_agency_and_only_its_people(admin_client, world):
    response = admin_client.get(staff_url(world.police))
    assert response.status_code == 200
    body = response.content.decode()
    for username in ("lead_admin", "lead_responder", "lead_supervisor"):
        assert f'data-testid="staff-row-{username}"' in body
    for username in ("receiving_responder", "outsider_responder", "analyst"):
        assert f"staff-row-{username}" not in body
    # No way from here to case content: every link stays on staff pages or the shell.
    assert "/cases/" not in body


def test_the_admin_home_links_to_the_staff_page(admin_client, world):
    response = admin_client.get(reverse("accounts:agency_admin_home"))
    assert response.status_code == 200
    assert staff_url(world.police) in response.content.decode()


def test_staff_list_query_budget_does_not_grow_with_staff(admin_client, world, django_assert_max_num_queries):
    for n in range(40):
        membership_add(user=make_user(f"staff{n:02d}", first_name=f"Người {n}"), agency=world.police,
                       role=Role.RESPONDER)
    # 12 = the session read and its idle-timeout renewal, the user, the header's unread count, and
    # 8 for the page itself (one finds who holds break-glass, one whose one-time password is still
    # waiting, one who is paused from signing in); none of them grows with the number of staff.
    with django_assert_max_num_queries(12):
        response = admin_client.get(staff_url(world.police))
    assert response.content.decode().count('data-testid="staff-row-') == 43


# --- adding people -------------------------------------------------------------------------------


def test_add_an_existing_user(admin_client, world):
    # Someone working elsewhere needs the system administrator's release first (tests/agencies/test_staff_attach.py).
    from agencies.services import account_release

    account_release(user=world.outsider_responder, agency=world.police, reason="Điều chuyển công tác",
                    actor=world.sysadmin)
    response = admin_client.post(reverse("agencies:staff_add_existing", args=[world.police.pk]),
                                 {"existing-username": "outsider_responder", "existing-role": "supervisor"})
    assert response.status_code == 302
    assert response["Location"] == staff_url(world.police)
    assert member(world, world.outsider_responder).role == Role.SUPERVISOR
    assert agency_group_name(agency=world.police, role=Role.SUPERVISOR) in group_names(world.outsider_responder)
    # The school's group stays: the person works in both agencies now.
    assert agency_group_name(agency=world.school, role=Role.RESPONDER) in group_names(world.outsider_responder)


@pytest.mark.parametrize("data, field, message", [
    ({"existing-username": "nobody", "existing-role": "responder"}, "username",
     "This account cannot be added to your agency."),
    ({"existing-username": "lead_responder", "existing-role": "supervisor"}, "username",
     "lead_responder is already a member of this agency"),
    ({"existing-username": "outsider_responder", "existing-role": "boss"}, "role", "Select a valid choice."),
    ({"existing-username": "", "existing-role": "responder"}, "username", "This field is required."),
])
def test_add_existing_form_errors(admin_client, world, data, field, message):
    response = admin_client.post(reverse("agencies:staff_add_existing", args=[world.police.pk]), data)
    assert response.status_code == 400
    form = response.context["existing_form"]
    assert any(message in error for error in form.errors[field])
    assert message.split(" ")[0] in response.content.decode()
    assert_nothing_changed(world)


def test_an_account_taken_between_the_check_and_the_attach_is_a_form_error(admin_client, world, monkeypatch):
    """Two sendings at once (a double tap, or two admins): both forms pass their check, the second finds
    the account attached by the first. It was a 500 (the view went on to a membership it never got)."""
    from agencies import views
    from agencies.services import account_release, staff_attach

    account_release(user=world.outsider_responder, agency=world.police, reason="Điều chuyển công tác",
                    actor=world.sysadmin)

    def the_other_sending_first(**kwargs):
        staff_attach(**kwargs)
        return staff_attach(**kwargs)

    monkeypatch.setattr(views, "staff_attach", the_other_sending_first)
    response = admin_client.post(reverse("agencies:staff_add_existing", args=[world.police.pk]),
                                 {"existing-username": "outsider_responder", "existing-role": "responder"})
    assert response.status_code == 400 and response.context["existing_form"].errors["username"]
    assert Membership.objects.filter(user=world.outsider_responder, agency=world.police).count() == 1


def test_a_username_taken_between_the_check_and_the_save_is_a_form_error(admin_client, world, monkeypatch):
    """Two sendings at once: both pass the username check, the second's save meets the first's row. It was
    a 500 (the database's IntegrityError)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    checked = User.full_clean

    def the_other_sending_saves_first(user, *args, **kwargs):
        checked(user, *args, **kwargs)
        User.objects.create_user(username=user.username)

    monkeypatch.setattr(User, "full_clean", the_other_sending_saves_first)
    response = admin_client.post(reverse("agencies:staff_create", args=[world.police.pk]), {
        "new-username": "le.thi.hoa", "new-full_name": "Lê Thị Hoa", "new-email": "hoa@example.invalid",
        "new-role": "responder"})
    assert response.status_code == 400 and response.context["new_form"].errors["username"]
    assert not Membership.objects.filter(user__username="le.thi.hoa").exists()


def test_add_an_inactive_user_is_refused(admin_client, world):
    world.outsider_responder.is_active = False
    world.outsider_responder.save()
    response = admin_client.post(reverse("agencies:staff_add_existing", args=[world.police.pk]),
                                 {"existing-username": "outsider_responder", "existing-role": "responder"})
    assert response.status_code == 400
    assert_nothing_changed(world)


def test_create_a_new_person_shows_the_password_once(admin_client, world):
    response = admin_client.post(reverse("agencies:staff_create", args=[world.police.pk]), {
        "new-username": "tran.thi.mai", "new-full_name": "Trần Thị Mai", "new-email": "mai@example.invalid",
        "new-role": "responder",
    })
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = response.context["password"]
    assert f'data-testid="one-time-password">{password}<' in response.content.decode()
    user = member(world, world.lead_admin).user.__class__.objects.get(username="tran.thi.mai")
    assert user.check_password(password)
    assert (user.get_full_name(), user.email) == ("Trần Thị Mai", "mai@example.invalid")
    assert group_names(user) == {agency_group_name(agency=world.police, role=Role.RESPONDER)}
    # The list does not show it again.
    assert password not in admin_client.get(staff_url(world.police)).content.decode()


@pytest.mark.parametrize("data, field, message", [
    ({"new-username": "lead_responder"}, "username", "This username is taken"),
    ({"new-username": "LEAD_RESPONDER"}, "username", "This username is taken"),
    ({"new-username": "bad name!"}, "username", "Enter a valid username"),
    ({"new-email": "not-an-email"}, "email", "Enter a valid email address."),
    ({"new-email": "taken@example.invalid"}, "email", "A user with this email address already exists"),
    ({"new-full_name": ""}, "full_name", "This field is required."),
    ({"new-role": "superuser"}, "role", "Select a valid choice."),
])
def test_create_form_errors(admin_client, world, data, field, message):
    world.lead_supervisor.email = "Taken@example.invalid"
    world.lead_supervisor.save()
    users_before = world.lead_admin.__class__.objects.count()
    payload = {"new-username": "new.person", "new-full_name": "Lê Văn Bình", "new-email": "binh@example.invalid",
               "new-role": "responder"} | data
    response = admin_client.post(reverse("agencies:staff_create", args=[world.police.pk]), payload)
    assert response.status_code == 400
    assert any(message in error for error in response.context["new_form"].errors[field])
    assert world.lead_admin.__class__.objects.count() == users_before
    assert_nothing_changed(world)


# --- changing roles and removing -----------------------------------------------------------------


def test_change_a_role(admin_client, world):
    responder = member(world, world.lead_responder)
    response = role_change(admin_client, world, responder, "supervisor")
    assert response.status_code == 302
    assert member(world, world.lead_responder).role == Role.SUPERVISOR
    assert group_names(world.lead_responder) == {agency_group_name(agency=world.police, role=Role.SUPERVISOR)}
    follow = admin_client.get(response["Location"])
    assert "is now Supervisor" in follow.content.decode()


def test_change_to_a_bad_role_shows_the_error_on_that_row(admin_client, world):
    responder = member(world, world.lead_responder)
    response = role_change(admin_client, world, responder, "boss")
    assert response.status_code == 400
    rows = {m.pk: form for m, form, _break_glass in response.context["rows"]}
    assert "Select a valid choice." in rows[responder.pk].errors["role"][0]
    assert_nothing_changed(world)


def test_the_last_admin_cannot_demote_or_remove_themselves(admin_client, world):
    admin = member(world, world.lead_admin)
    response = role_change(admin_client, world, admin, "responder")
    assert response.status_code == 400
    assert "at least one agency admin" in response.content.decode()
    response = admin_client.post(reverse("agencies:staff_remove", args=[world.police.pk, admin.pk]))
    assert response.status_code == 400
    assert "at least one agency admin" in response.content.decode()
    assert_nothing_changed(world)


def test_an_admin_who_steps_down_goes_home(admin_client, world):
    membership_add(user=world.lead_supervisor, agency=world.police, role=Role.AGENCY_ADMIN)
    admin = member(world, world.lead_admin)
    response = role_change(admin_client, world, admin, "responder")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:home")
    assert admin_client.get(staff_url(world.police)).status_code == 403


def test_remove_a_person_after_confirming(admin_client, world):
    responder = member(world, world.lead_responder)
    url = reverse("agencies:staff_remove", args=[world.police.pk, responder.pk])
    confirm = admin_client.get(url)
    assert confirm.status_code == 200
    assert Membership.objects.filter(pk=responder.pk).exists()
    response = admin_client.post(url)
    assert response.status_code == 302
    assert not Membership.objects.filter(user=world.lead_responder).exists()
    assert group_names(world.lead_responder) == set()
    assert admin_client.post(url).status_code == 404
