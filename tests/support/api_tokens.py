"""API tokens for tests that call the API as a token client would."""

from knox.models import AuthToken


def api_token_for(user) -> str:
    """A fresh API token of the user, as the `Authorization` header value."""
    _instance, token = AuthToken.objects.create(user=user)
    return f"Token {token}"
