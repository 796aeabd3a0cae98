from django import forms
from django.conf import settings

from tracker.fetching import FetchError, validate_url

from ..models import DealSource, Watch
from .titles import parse_query


class WatchForm(forms.ModelForm):
    class Meta:
        model = Watch
        fields = ["name", "query", "max_price", "condition", "product", "alert_min_score"]

    def __init__(self, *args, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = owner.products.all() if owner else self.fields["product"].queryset.none()
        self.fields["product"].required = False

    def clean_query(self):
        query = self.cleaned_data["query"]
        if parse_query(query).is_empty:
            raise forms.ValidationError("Give at least one keyword to look for (words after - are exclusions).")
        return query


class DealSourceForm(forms.ModelForm):
    class Meta:
        model = DealSource
        fields = ["name", "kind", "url", "item_pattern", "default_currency", "max_pages", "poll_interval_minutes"]

    def clean_url(self):
        try:
            return validate_url(self.cleaned_data["url"])
        except FetchError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self):
        data = super().clean()
        if data.get("kind") == DealSource.Kind.HTML:
            pattern = data.get("item_pattern") or {}
            if not isinstance(pattern, dict) or not pattern.get("item") or not pattern.get("title"):
                self.add_error("item_pattern", 'An HTML source needs {"item": "...", "title": "..."} selectors.')
        if data.get("max_pages") is not None and not 1 <= data["max_pages"] <= settings.SCOUT_MAX_PAGES:
            self.add_error("max_pages", f"Between 1 and {settings.SCOUT_MAX_PAGES} pages (SCOUT_MAX_PAGES).")
        if data.get("poll_interval_minutes") is not None and data["poll_interval_minutes"] < 5:
            self.add_error("poll_interval_minutes", "Poll at most every 5 minutes.")
        return data


class DealFilterForm(forms.Form):
    watch = forms.IntegerField(required=False)
    source = forms.IntegerField(required=False)
    min_score = forms.IntegerField(required=False, min_value=0, max_value=100)
    max_price = forms.DecimalField(required=False, min_value=0)
    condition = forms.ChoiceField(
        required=False, choices=[("", "Any"), ("new", "New"), ("used", "Used"), ("refurbished", "Refurbished")]
    )
    max_age_days = forms.IntegerField(required=False, min_value=1)
    sort = forms.ChoiceField(required=False, choices=[("score", "Best score"), ("newest", "Newest")])
