"""Forms for alert rules and quiet hours."""

from __future__ import annotations

from django import forms

from ..models import AlertRule, NotificationSettings
from .quiet import zone
from .rules import NEEDS_THRESHOLD


class RuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = ["kind", "threshold", "store", "window_days"]
        labels = {"threshold": "Number (price, % or amount)", "store": "Store", "window_days": "Typical over"}
        widgets = {"window_days": forms.Select(choices=[(30, "30 days"), (90, "90 days")])}

    def __init__(self, *args, product=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stores = product.listings.values_list("store_id", flat=True) if product is not None else []
        self.fields["store"].queryset = self.fields["store"].queryset.filter(pk__in=list(stores))
        self.fields["store"].empty_label = "Any of its stores"

    def clean(self):
        data = super().clean()
        kind, threshold = data.get("kind"), data.get("threshold")
        if kind in NEEDS_THRESHOLD and threshold is None:
            self.add_error("threshold", "This kind of rule needs a number.")
        if threshold is not None and threshold < 0:
            self.add_error("threshold", "The number cannot be negative.")
        return data


class NotificationSettingsForm(forms.ModelForm):
    class Meta:
        model = NotificationSettings
        fields = ["quiet_start", "quiet_end", "timezone"]
        labels = {"quiet_start": "Quiet from", "quiet_end": "Quiet until"}
        widgets = {"quiet_start": forms.TimeInput(attrs={"type": "time"}), "quiet_end": forms.TimeInput(attrs={"type": "time"})}

    def clean_timezone(self) -> str:
        name = self.cleaned_data["timezone"].strip() or "UTC"
        if zone(name).key != name:
            raise forms.ValidationError("Unknown time zone (use a name like Europe/Berlin).")
        return name
