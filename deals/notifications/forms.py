"""The channel form: where notifications go."""

from __future__ import annotations

from django import forms

from ..models import Channel


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=Channel.Kind.choices, initial=Channel.Kind.APPRISE)
    url = forms.CharField(
        required=False,
        max_length=2000,
        label="Apprise URL",
        # Never rendered back: a page must not carry the secret it was given.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "placeholder": "ntfy://… json://… tgram://…"}),
        help_text="Stored encrypted and never shown again. Leave empty when editing to keep the current one.",
    )
    email_to = forms.EmailField(required=False, label="E-mail address")
    mode = forms.ChoiceField(choices=Channel.Mode.choices, initial=Channel.Mode.IMMEDIATE)
    enabled = forms.BooleanField(required=False, initial=True)
