"""Forms of the web UI. They check input and say what is wrong; the services do the work."""

from __future__ import annotations

from babel import Locale
from django import forms
from django.conf import settings
from django.utils.translation import to_locale

from . import selectors, services
from .models import Priority

URL_HELP = "The product's page at a shop, starting with http:// or https://"


def _clean_url(raw: str, *, owner) -> str:
    """A trackable URL the person does not track yet, or a ValidationError saying why not."""
    try:
        url = services.url_check(url=raw)
    except services.TrackingError as exc:
        raise forms.ValidationError(f"This address cannot be tracked: {exc}.") from exc
    existing = selectors.listing_find_by_url(owner=owner, url=url)
    if existing is not None:
        raise forms.ValidationError(
            f"You already track this page (in “{existing.product.name}”).", code="duplicate"
        )
    return url


class _OwnerForm(forms.Form):
    # Set by "keep trying" after a first check found no price: keep the page anyway.
    keep = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, owner, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner


class ProductAddForm(_OwnerForm):
    # A CharField, not a URLField: the fetch layer's own check gives the message, and
    # Django's URL validator would accept schemes and forms the fetcher refuses. No max_length:
    # it becomes the input's maxlength, and a browser cuts a longer paste silently; the
    # service refuses an over-long address with a message instead.
    url = forms.CharField(
        label="Product page URL",
        help_text=URL_HELP,
        widget=forms.TextInput(
            attrs={"placeholder": "https://shop.example/product", "inputmode": "url", "autocomplete": "off"}
        ),
    )
    name = forms.CharField(
        label="Name (optional)",
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Taken from the page if empty"}),
    )
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)

    def clean_url(self) -> str:
        return _clean_url(self.cleaned_data["url"], owner=self.owner)


class ListingAddForm(_OwnerForm):
    url = forms.CharField(
        label="Another store's page",
        help_text=URL_HELP,
        widget=forms.TextInput(attrs={"placeholder": "https://other-shop.example/product", "inputmode": "url"}),
    )
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)

    def clean_url(self) -> str:
        return _clean_url(self.cleaned_data["url"], owner=self.owner)


class ProductRenameForm(forms.Form):
    name = forms.CharField(label="Name", max_length=300)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("A product needs a name.")
        return name


class ListingPriorityForm(forms.Form):
    priority = forms.ChoiceField(choices=Priority.choices)


def _currency_choices() -> list[tuple[str, str]]:
    names = Locale.parse(to_locale(settings.LANGUAGE_CODE)).currencies  # CLDR's names, for the label
    codes = sorted(names)
    return [("", "Each price in its own currency")] + [(code, f"{code} · {names[code]}") for code in codes]


class DisplayCurrencyForm(forms.Form):
    display_currency = forms.ChoiceField(label="Show prices also in", choices=_currency_choices, required=False)
