"""The account export/import page: download products, rules and channels as JSON (channel
secrets left out), or upload such a file to bring them in."""

from __future__ import annotations

import json

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from .transfer import account_export, account_import

MAX_BYTES = 5_000_000


class AccountImportForm(forms.Form):
    file = forms.FileField(label="An account export (.json)")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        try:
            return json.loads(upload.read().decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise forms.ValidationError("The file is not JSON.") from exc


@login_required
@require_GET
def account_download(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        json.dumps(account_export(owner=request.user), ensure_ascii=False, indent=1), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="pricetracker-account-{timezone.now():%Y%m%d}.json"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_page(request: HttpRequest) -> HttpResponse:
    form = AccountImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = account_import(owner=request.user, data=form.cleaned_data["file"])
        except ValueError as exc:
            form.add_error("file", str(exc))
    return render(request, "deals/account.html", {"form": form, "report": report}, status=400 if form.errors else 200)
