"""Import and export pages: paste or upload URLs/CSV (run by a worker, the page polls the
progress), and history downloads as CSV or JSON for one product or the whole account."""

from __future__ import annotations

import json

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from . import selectors, tasks
from .exports import filename_stamp, history_csv_lines, history_record
from .imports import MAX_ROWS, ImportRefused, import_create, import_status

MAX_UPLOAD_BYTES = 2_000_000


class ImportForm(forms.Form):
    text = forms.CharField(
        label="URLs or CSV", required=False, max_length=MAX_UPLOAD_BYTES,
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "https://shop.example/kettle\nurl,name,priority,target_price\nhttps://shop.example/tv,Living room TV,high,499"}),
    )
    file = forms.FileField(label="…or a file (.txt or .csv)", required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB.")
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise forms.ValidationError("The file is not UTF-8 text.") from exc
        if not (data.get("text") or "").strip():
            raise forms.ValidationError("Paste some URLs or choose a file.")
        return data


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_create(owner=request.user, text=form.cleaned_data["text"])
        except ImportRefused as exc:
            form.add_error(None, str(exc))
        else:
            tasks.import_enqueue(job_id=job.pk)
            return redirect("tracker:import_detail", pk=job.pk)
    return render(
        request, "tracker/import.html", {"form": form, "max_rows": MAX_ROWS}, status=400 if form.errors else 200
    )


@login_required
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.import_get(owner=request.user, import_id=pk)
    return render(request, "tracker/import_detail.html", {"job": job, "status": import_status(job=job)})


@login_required
@require_GET
def import_status_json(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(import_status(job=selectors.import_get(owner=request.user, import_id=pk)))


def _history_download(request: HttpRequest, *, product_id: int | None, fmt: str, name: str) -> HttpResponse:
    if product_id is not None:
        selectors.product_get(owner=request.user, product_id=product_id)
    points = selectors.price_history(owner=request.user, product_id=product_id).iterator()
    filename = f"{name}-{filename_stamp(timezone.now())}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(history_csv_lines(points), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            json.dumps({"history": [history_record(point) for point in points]}, ensure_ascii=False),
            content_type="application/json",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def history_export(request: HttpRequest, fmt: str) -> HttpResponse:
    return _history_download(request, product_id=None, fmt=fmt, name="pricetracker-history")


@login_required
@require_GET
def product_history_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    return _history_download(request, product_id=pk, fmt=fmt, name=f"product-{pk}-history")
