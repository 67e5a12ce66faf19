"""API token authentication: django-rest-knox's, without its per-request sweep of the owner's tokens."""

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.signals import token_expired


class ApiTokenAuthentication(TokenAuthentication):
    """knox deletes every expired token of the owner on each request, one query more on every API
    call; here only the presented token is checked (and deleted once expired). The owner's other
    expired tokens are deleted at their next sign-in and are never listed or accepted meanwhile."""

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class ApiTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of these tokens: `Authorization: Token <token>`."""

    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"
