"""The permanent navigation bar: the main pages of every role the person holds, on every page.

The roles are read once at sign-in (accounts.receivers) and kept in the session, so that drawing
the bar costs no query; each page still checks the person's rights itself. A session from before
this bar existed gets its roles on its next page, once.

A change of roles (a membership added, changed or removed, an analyst scope, `is_staff`) takes
effect on the person's next request: the change writes a new *roles version* for the person
(accounts.models.NavRolesVersion) in its own transaction (accounts.receivers), the session remembers
the version its roles were read at, and a page whose session holds another version reads the roles
again. A page's version is read with its session's row (accounts.session_store), in the same
statement, so the bar costs no query and no cache read of its own; elsewhere it is one small query.
"""

import functools
import uuid

from django.contrib.auth.models import User
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from agencies.models import Role

from .models import NavRolesVersion
from .selectors import ANALYST, user_roles

NAV_ROLES_SESSION_KEY = "nav_roles"
NAV_ROLES_VERSION_SESSION_KEY = "nav_roles_version"
STAFF = "staff"

# Each role's pages, in the order shown; a page shared by two roles appears once.
NAV_BY_ROLE = {
    Role.RESPONDER.value: [
        (_("My work"), "accounts:responder_home"),
        (_("Cases"), "cases:list"),
        (_("Handoffs"), "handoffs:incoming"),
        (_("Deadlines"), "notifications:deadlines"),
        (_("Case meetings"), "conferences:list"),
    ],
    Role.SUPERVISOR.value: [
        (_("Supervision"), "supervision:register"),
        (_("Review queue"), "supervision:queue"),
        (_("Dashboard"), "supervision:dashboard"),
        (_("Case meetings"), "conferences:list"),
    ],
    Role.AGENCY_ADMIN.value: [(_("Agency staff"), "accounts:agency_admin_home")],
    ANALYST: [(_("Reports"), "accounts:analyst_home")],
    STAFF: [(_("Administration"), "admin:index")],
}


def nav_roles_for(user: User) -> list[str]:
    roles = user_roles(user=user)
    if user.is_staff or user.is_superuser:
        roles.add(STAFF)
    return [role for role in NAV_BY_ROLE if role in roles]


def nav_roles_version(*, user_id) -> str | None:
    """The person's current roles version (None while none was ever written)."""
    return NavRolesVersion.objects.filter(user_id=user_id).values_list("version", flat=True).first()


def nav_roles_changed(*, user_id) -> None:
    """A role of the person changed: their next request reads the roles again (a new version, written in
    the transaction of the change, so that it takes effect exactly when the change does)."""
    nav_roles_changed_many(user_ids=[user_id])


def nav_roles_changed_many(*, user_ids) -> None:
    """nav_roles_changed of each of these people, in one statement."""
    NavRolesVersion.objects.bulk_create(
        [NavRolesVersion(user_id=user_id, version=uuid.uuid4().hex) for user_id in dict.fromkeys(user_ids)],
        update_conflicts=True, unique_fields=["user"], update_fields=["version"])


_UNREAD = object()


def nav_roles_remember(*, session, user: User, version=_UNREAD) -> list[str]:
    """Read the person's roles into the session, with the version they were read at (`version`, read
    before the roles, else read now)."""
    if version is _UNREAD:
        version = nav_roles_version(user_id=user.pk)
    roles = nav_roles_for(user)
    session[NAV_ROLES_SESSION_KEY] = roles
    session[NAV_ROLES_VERSION_SESSION_KEY] = version
    return roles


def nav_roles_current(*, session, user: User) -> list[str]:
    """The roles kept in the session, read again when missing or older than the last role change. The
    version is the one read with the session's row (`nav_roles_version_read` of the session store: the
    user's id and the version) when it was read for this user, else read now."""
    roles = session.get(NAV_ROLES_SESSION_KEY)
    read = getattr(session, "nav_roles_version_read", None)
    version = read[1] if read is not None and read[0] == user.pk else nav_roles_version(user_id=user.pk)
    # A session that kept roles without a version (from before the versions) reads them again too.
    stale = NAV_ROLES_VERSION_SESSION_KEY not in session or session[NAV_ROLES_VERSION_SESSION_KEY] != version
    if roles is None or stale:
        roles = nav_roles_remember(session=session, user=user, version=version)
    return roles


@functools.lru_cache(maxsize=64)
def _nav_url(url_name: str, prefix: str, urlconf) -> str:
    """A menu page's URL, reversed once per process (and script prefix and URLconf): every page draws
    the menu, and its URLs have no arguments."""
    return reverse(url_name, urlconf=urlconf)


def nav_links(*, roles, path: str) -> list[tuple[str, str, bool]]:
    """(title, url, current) for the roles' pages; the current one is the longest URL that the
    path starts with."""
    links, seen = [], set()
    for role in roles:
        for title, url_name in NAV_BY_ROLE.get(role, []):
            url = _nav_url(url_name, get_script_prefix(), get_urlconf())
            if url not in seen:
                seen.add(url)
                links.append([str(title), url, False])
    matching = [link for link in links if path == link[1] or (link[1] != "/" and path.startswith(link[1]))]
    if matching:
        max(matching, key=lambda link: len(link[1]))[2] = True
    return [tuple(link) for link in links]


def nav_menu(links: list[tuple[str, str, bool]]) -> str:
    """The bar's links as HTML (escaped), the current page marked: written here rather than by a loop in
    base.html, whose dozen template nodes for each link every page paid for."""
    return format_html_join(
        "\n      ", '<a href="{}"{}>{}</a>',
        ((url, mark_safe(' aria-current="page"') if current else "", title) for title, url, current in links),
    )


@functools.lru_cache(maxsize=256)
def _nav_urls(roles: tuple[str, ...], prefix: str, urlconf) -> tuple[str, ...]:
    """The URLs of the roles' pages, as nav_links lists them."""
    return tuple(url for _title, url, _current in nav_links(roles=roles, path=""))


@functools.lru_cache(maxsize=1024)
def _nav_menu_drawn(roles: tuple[str, ...], current: str, language: str | None, prefix: str, urlconf) -> str:
    """nav_menu of the roles' links with `current` marked, in `language`: the same for everyone holding
    these roles on a page under that link, so drawn once per process (a few hundred variants at most)."""
    return nav_menu(nav_links(roles=roles, path=current))


def nav_menu_for(*, roles, path: str) -> str:
    """nav_menu(nav_links(roles=roles, path=path)), drawn once per roles, current link and language."""
    roles, prefix, urlconf = tuple(roles), get_script_prefix(), get_urlconf()
    # The current link, as nav_links picks it: the longest URL the path is or starts with.
    urls = _nav_urls(roles, prefix, urlconf)
    matching = [url for url in urls if path == url or (url != "/" and path.startswith(url))]
    current = max(matching, key=len) if matching else ""
    return _nav_menu_drawn(roles, current, get_language(), prefix, urlconf)


def navigation(request) -> dict:
    """Context processor: `nav_menu` (the bar's links, nav_menu()) for signed-in people, drawn lazily."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return {}

    def menu():
        return nav_menu_for(roles=nav_roles_current(session=request.session, user=user), path=request.path)

    return {"nav_menu": SimpleLazyObject(menu)}
