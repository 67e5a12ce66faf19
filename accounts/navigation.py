"""The permanent navigation bar: the main pages of every role the person holds, on every page.

The roles are read once at sign-in (accounts.receivers) and kept in the session, so that drawing
the bar costs no query; each page still checks the person's rights itself. A session from before
this bar existed gets its roles on its next page, once.
"""

from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from agencies.models import Role

from .selectors import ANALYST, user_roles

NAV_ROLES_SESSION_KEY = "nav_roles"
STAFF = "staff"

# Each role's pages, in the order shown; a page shared by two roles appears once.
NAV_BY_ROLE = {
    Role.RESPONDER.value: [
        (_("My work"), "accounts:responder_home"),
        (_("Cases"), "cases:list"),
        (_("Handoffs"), "handoffs:incoming"),
        (_("Deadlines"), "notifications:deadlines"),
    ],
    Role.SUPERVISOR.value: [
        (_("Supervision"), "supervision:register"),
        (_("Review queue"), "supervision:queue"),
        (_("Dashboard"), "supervision:dashboard"),
    ],
    Role.AGENCY_ADMIN.value: [(_("Agency staff"), "accounts:agency_admin_home")],
    ANALYST: [(_("Reports"), "accounts:analyst_home")],
    STAFF: [(_("Administration"), "admin:index")],
}


def nav_roles_for(user) -> list[str]:
    roles = user_roles(user=user)
    if user.is_staff or user.is_superuser:
        roles.add(STAFF)
    return [role for role in NAV_BY_ROLE if role in roles]


def nav_links(*, roles, path: str) -> list[tuple[str, str, bool]]:
    """(title, url, current) for the roles' pages; the current one is the longest URL that the
    path starts with."""
    links, seen = [], set()
    for role in roles:
        for title, url_name in NAV_BY_ROLE.get(role, []):
            url = reverse(url_name)
            if url not in seen:
                seen.add(url)
                links.append([str(title), url, False])
    matching = [link for link in links if path == link[1] or (link[1] != "/" and path.startswith(link[1]))]
    if matching:
        max(matching, key=lambda link: len(link[1]))[2] = True
    return [tuple(link) for link in links]


def navigation(request) -> dict:
    """Context processor: `nav_links` for signed-in people, drawn lazily."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return {}

    def links():
        roles = request.session.get(NAV_ROLES_SESSION_KEY)
        if roles is None:
            roles = nav_roles_for(user)
            request.session[NAV_ROLES_SESSION_KEY] = roles
        return nav_links(roles=roles, path=request.path)

    return {"nav_links": SimpleLazyObject(links)}
