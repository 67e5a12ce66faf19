"""API tokens for tests that call the API as a token client would."""

from knox.models import AuthToken


def api_token_for(user) -> str:
    """A fresh API token of the user, as the `Authorization` header value."""
    _instance, token = AuthToken.objects.create(user=user)
    return f"Token {token}"


def token_client(user):
    """An API client that sends the user's fresh API token, as a token client would."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=api_token_for(user))
    return client
