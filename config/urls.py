from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts import mfa_views
from cases import api_urls as case_api_urls
from cases import urls as case_urls
from deadlines import api_urls as deadline_api_urls
from handoffs import api_urls as handoff_api_urls
from takedowns import api_urls as takedown_api_urls
from takedowns import urls as takedown_urls

from . import views
from .resolving import RememberingResolver

# Vietnamese and English error pages with a way home; JSON under /api/ (config.errors).
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"


def app_urls(prefix: str, app: str) -> list:
    """An app's pages (`<app>.urls`) mounted at `prefix`, and its API (`<app>.api_urls`) under /api/."""
    return [path(prefix, include(f"{app}.urls")), path("api/", include(f"{app}.api_urls"))]


_patterns = [
    path("healthz", views.healthz, name="healthz"),
    path("healthz/detail", views.healthz_detail, name="healthz-detail"),
    path("i18n/", include("django.conf.urls.i18n")),
    # One sign-in for everyone, with its second step: the admin's own password-only form is never used.
    path("admin/login/", mfa_views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Served from this installation (drf-spectacular-sidecar). The split view loads its start-up
    # script from a URL rather than inline, so the strict policy holds; Redoc writes its styles at
    # run time, the one place where inline style is let through.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(
        url_name="api-schema", template_name="api_docs/swagger_ui.html"), name="api-docs"),
    path("api/redoc/", csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})(
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api_docs/redoc.html")), name="api-redoc"),
    path("", include("accounts.urls")),
    path("agencies/", include("agencies.urls")),
    # Takedowns and deadlines are apps of their own; their URLs keep the namespaces they were named in.
    path("cases/", include((case_urls.urlpatterns + takedown_urls.urlpatterns, case_urls.app_name))),
    path("api/", include((case_api_urls.urlpatterns + takedown_api_urls.urlpatterns, case_api_urls.app_name))),
    path("cases/", include("deadlines.urls")),
    path("handoffs/", include("handoffs.urls")),
    path("api/", include((handoff_api_urls.urlpatterns + deadline_api_urls.urlpatterns, handoff_api_urls.app_name))),
    *app_urls("notifications/", "notifications"),
    *app_urls("reports/", "reports"),
    *app_urls("supervision/", "supervision"),
    path("break-glass/", include("supervision.breakglass_urls")),
    # The personal-data breach register (privacy) keeps the paths and names it had under audit.
    path("audit/", include("privacy.breaches.urls")),
    path("api/", include("privacy.breaches.api_urls")),
    *app_urls("privacy/", "privacy"),
    *app_urls("cases/", "risk"),
    *app_urls("meetings/", "conferences"),
]

if settings.DEBUG:  # pragma: no cover
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    _patterns += staticfiles_urlpatterns()

# Every path of the site behind one resolver that remembers what each path resolved to (config.resolving).
urlpatterns = [RememberingResolver(_patterns)]
