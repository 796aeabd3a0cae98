"""Sign-up pages. Thin: check the form, call accounts.services, log the new person in."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import services
from .forms import SignupForm

_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _signup(request: HttpRequest, form: SignupForm, *, token: str | None) -> HttpResponse | None:
    data = form.cleaned_data
    try:
        if token is None:
            user = services.user_create(username=data["username"], email=data["email"], password=data["password1"])
        else:
            user = services.invitation_accept(
                token=token, username=data["username"], email=data["email"], password=data["password1"]
            )
    except services.AccountError as exc:
        form.add_error(None, str(exc))
        return None
    login(request, user, backend=_BACKEND)
    messages.success(request, f"Welcome, {user.username}. Paste a product page's address to start.")
    return redirect("tracker:dashboard")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.SIGNUP_ENABLED:
        raise Http404("sign-up is switched off")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if (response := _signup(request, form, token=None)) is not None:
            return response
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invited = services.invitation_find(token=token)
    except services.InvitationInvalid:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = SignupForm(request.POST or None, initial={"email": invited.email})
    if request.method == "POST" and form.is_valid():
        try:
            if (response := _signup(request, form, token=token)) is not None:
                return response
        except services.InvitationInvalid:
            return render(request, "accounts/invitation_invalid.html", status=404)
    return render(
        request, "accounts/signup.html", {"form": form, "invited": invited}, status=400 if form.errors else 200
    )


def password_reset_enabled(view):
    """Password reset pages exist only when mail is set up (PASSWORD_RESET_ENABLED)."""

    def wrapped(request, *args, **kwargs):
        if not settings.PASSWORD_RESET_ENABLED:
            raise Http404("password reset by e-mail is switched off")
        return view(request, *args, **kwargs)

    return wrapped


@login_required
@require_http_methods(["GET"])
def settings_view(request: HttpRequest) -> HttpResponse:
    """The person's settings: the account, and the ways to add a page from the browser."""
    from tracker.views_add import bookmarklet_for

    return render(request, "accounts/settings.html", {"bookmarklet": bookmarklet_for(request)})
