"""URL helpers shared by the apps' URL tables."""

from django.urls import include, path


def member_routes(detail_view, detail_name: str, /, **action_views) -> tuple:
    """One record's routes, for `path("<its id>/", member_routes(...))`: the record at "" named
    `detail_name`, and each action at "<action>/" named "<action>", the way DRF's
    `@action(detail=True)` names a viewset's extra routes: a handoff's and a data-subject request's
    page and API operations are declared so."""
    return include([
        path("", detail_view, name=detail_name),
        *(path(f"{action}/", view, name=action) for action, view in action_views.items()),
    ])
