"""The API tokens page (Settings → API tokens): make a token (shown once), see and revoke them."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .tokens import token_create, token_revoke, tokens_for


class TokenForm(forms.Form):
    name = forms.CharField(
        label="What is it for?", max_length=100, required=False,
        widget=forms.TextInput(attrs={"placeholder": "Home Assistant"}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        _, secret = token_create(owner=request.user, name=form.cleaned_data["name"])
        form = TokenForm()
    response = render(
        request,
        "tracker/settings_tokens.html",
        {"form": form, "tokens": tokens_for(owner=request.user), "secret": secret,
         "api_base": request.build_absolute_uri("/api/v1/")},
        status=400 if form.errors else 200,
    )
    response["Cache-Control"] = "no-store"  # the new token is on this page, once
    return response


@login_required
@require_POST
def token_delete(request: HttpRequest, pk: int) -> HttpResponse:
    if token_revoke(owner=request.user, token_id=pk):
        messages.success(request, "Token revoked: requests sending it are refused from now on.")
    return redirect("tracker:settings_tokens")
