"""Friendly error pages (403, 404, 500) in the reader's language, with a way home.

Django's handlers render 403.html/404.html/500.html; these replace them so that API paths keep
answering JSON. Under DEBUG (`make run`) Django answers an unknown address with its technical 404,
which lists every URL of the installation: DebugFriendlyErrorsMiddleware renders the same friendly
page there instead. A 500 under DEBUG keeps Django's traceback, which is what a developer needs.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpResponse, JsonResponse
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from config.exceptions import NotFound

API_PREFIX = "/api/"


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _json(status: int) -> JsonResponse:
    detail = {403: _("You do not have permission to do this."), 404: _("Not found."),
              500: _("Something went wrong on our side.")}[status]
    return JsonResponse({"detail": detail}, status=status)


def _page(request, status: int, **context) -> HttpResponse:
    if _is_api(request):
        return _json(status)
    template = loader.get_template(f"{status}.html")
    response = HttpResponse(template.render({"status": status, **context}, request), status=status)
    response.friendly_error_page = True
    return response


@requires_csrf_token
def permission_denied(request, exception=None):
    return _page(request, 403)


def csrf_failure(request, reason=""):
    """A form refused for its missing or stale security token (CSRF_FAILURE_VIEW): the 403 page, saying
    what to do, instead of Django's English page."""
    return _page(request, 403, csrf=True)


@requires_csrf_token
def page_not_found(request, exception=None):
    return _page(request, 404)


@requires_csrf_token
def server_error(request):
    if _is_api(request):
        return _json(500)
    # No request context: whatever failed (the database, a context processor) must not fail again here.
    template = loader.get_template("500.html")
    return HttpResponse(template.render({"status": 500}), status=500)


class DebugFriendlyErrorsMiddleware:
    """With DEBUG on, answer an unknown address and a Http404/PermissionDenied raised by a view
    with the friendly page (never Django's technical page listing every URL). Does nothing when
    DEBUG is off: Django calls the handlers above itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.DEBUG:
            try:
                resolve(request.path_info)
            except Resolver404:
                return page_not_found(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not settings.DEBUG:
            return None
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return permission_denied(request, exception)
        return None


class DomainErrorsMiddleware:
    """The edge for pages: a domain NotFound raised below a view (config.exceptions) gets the
    answer a view's own Http404 gets, the same 404 page for "missing" and "not yours"."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, NotFound):
            return None
        if settings.DEBUG:
            return page_not_found(request, exception)
        return response_for_exception(request, Http404())
