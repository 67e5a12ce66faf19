"""Authentication backends for the test settings only."""

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """axes' lockout check, except for `Client.login()`, which authenticates without a request.

    Sign-ins through the pages and the API always carry a request and get axes' checks unchanged."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
