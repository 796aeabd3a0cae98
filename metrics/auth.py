"""Login throttling for sign-ins over HTTP (django-axes)."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class AxesHttpOnlyBackend(AxesStandaloneBackend):
    """django-axes for logins that come with a request (the login form, the admin).

    A sign-in without a request (the test client, a management command) has no address to
    throttle, so it is passed on to the next backend instead of being refused.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
