"""Sending a message through a person's channel (Apprise URL or this server's e-mail)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.mime.image import MIMEImage
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.utils import timezone

from ..models import Channel
from .content import Message
from .crypto import MASK, SecretError, secret_decrypt, secret_encrypt, text_redact, url_mask, url_secret_parts
from .netguard import OutboundRefused, host_check, outbound_guard
from .schemes import scheme_host_is_place, scheme_refusal

log = logging.getLogger(__name__)

# HTTP statuses worth trying again later; any other 4xx is the channel's set-up.
_TRANSIENT_4XX = {408, 425, 429}


class ChannelError(Exception):
    """A channel could not take a message. The text is safe to show (secrets removed)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class _RedactFilter(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = text_redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


@contextmanager
def _logs_redacted(secrets: list[str]) -> Iterator[None]:
    """Whatever any library logs while a channel sends, its URL's secrets never reach a log."""
    handlers = list(logging.getLogger().handlers)
    for logger in logging.Logger.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            handlers += logger.handlers
    handlers = list(dict.fromkeys(handlers))
    redact = _RedactFilter(secrets)
    for handler in handlers:
        handler.addFilter(redact)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(redact)


def _plugin(url: str):
    import apprise  # here, not at module level: about 17 MB a process that never notifies

    plugin = apprise.Apprise.instantiate(url, asset=apprise.AppriseAsset(async_mode=False))
    if plugin is None:
        raise ChannelError("Apprise does not understand this URL (see the Apprise wiki for the formats)")
    return plugin


def channel_url_validate(url: str) -> str:
    """A channel URL a person typed, stripped; raises ChannelError (secret-free text) if unusable."""
    url = (url or "").strip()
    if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I):
        raise ChannelError("a channel URL starts with a service name, like ntfy:// or json://")
    with _logs_redacted(url_secret_parts(url)):
        plugin = _plugin(url)
    refusal = scheme_refusal(url.split("://", 1)[0])
    if refusal:
        raise ChannelError(refusal)
    place = scheme_host_is_place(type(plugin))
    for host in {getattr(plugin, "host", None), urlsplit(url).hostname}:
        if isinstance(host, str):
            try:
                host_check(host, place=place)
            except OutboundRefused as exc:
                raise ChannelError(text_redact(str(exc), url_secret_parts(url))) from exc
    return url


def channel_add(
    *,
    owner,
    name: str,
    kind: str = Channel.Kind.APPRISE,
    url: str = "",
    email_to: str = "",
    mode: str = Channel.Mode.IMMEDIATE,
) -> Channel:
    """Save a new channel, its URL encrypted. Raises ChannelError with a message to show."""
    channel = Channel(owner=owner, name=name.strip()[:100] or "Channel", kind=kind, mode=mode)
    channel_set_target(channel=channel, url=url, email_to=email_to)
    channel.save()
    return channel


def channel_set_target(*, channel: Channel, url: str = "", email_to: str = "") -> None:
    """Point a (not yet saved) channel at a new URL or address. An empty URL keeps the old one."""
    if channel.kind == Channel.Kind.EMAIL:
        try:
            validate_email(email_to)
        except ValidationError as exc:
            raise ChannelError("enter a valid e-mail address") from exc
        channel.email_to = email_to
        channel.url_encrypted = ""
        channel.url_masked = ""
        return
    if not url and channel.url_encrypted:
        return
    url = channel_url_validate(url)
    channel.url_encrypted = secret_encrypt(url)
    channel.url_masked = url_mask(url)[:300]
    channel.email_to = ""


def _classify(text: str) -> bool:
    """Whether an Apprise failure looks transient (server busy, network) rather than set-up."""
    for code in re.findall(r"error=(\d{3})", text):
        status = int(code)
        if 400 <= status < 500 and status not in _TRANSIENT_4XX:
            return False
    return True


def _send_apprise(*, url: str, message: Message) -> None:
    import apprise
    from apprise.attachment.memory import AttachMemory

    secrets = url_secret_parts(url)
    refusal = scheme_refusal(url.split("://", 1)[0])
    if refusal:  # saved before the scheme list existed, or the list shrank since
        raise ChannelError(refusal)
    with _logs_redacted(secrets):
        plugin = _plugin(url)
        body, body_format = message.text, apprise.NotifyFormat.TEXT
        if plugin.notify_format == apprise.NotifyFormat.HTML and message.html:
            body, body_format = message.html, apprise.NotifyFormat.HTML
        attach = None
        if message.attachments and plugin.attachment_support:
            attach = apprise.AppriseAttachment(
                [
                    AttachMemory(content=a.content, name=a.name, mimetype=a.mimetype)
                    for a in message.attachments
                ]
            )
        notifier = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
        notifier.add(plugin)
        try:
            with outbound_guard() as refusals:
                result = notifier.notify(
                    body=body,
                    title=message.title,
                    body_format=body_format,
                    attach=attach,
                    timeout=settings.CHANNEL_SEND_TIMEOUT,
                )
        except OutboundRefused as exc:
            raise ChannelError(text_redact(str(exc), secrets)) from exc
        if refusals:
            raise ChannelError(text_redact(refusals[0], secrets)[:1000], transient=False)
        if result:
            return
        problems = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
        text = text_redact(
            " ".join(problems) or f"the channel did not accept the message ({result.status.name})", secrets
        )
        raise ChannelError(text[:1000], transient=_classify(text))


def _send_email(*, to: str, message: Message) -> None:
    mail = EmailMultiAlternatives(subject=message.title[:200], body=message.text, to=[to])
    if message.html:
        mail.attach_alternative(message.html, "text/html")
    for attachment in message.attachments:
        if attachment.mimetype == "image/png":
            image = MIMEImage(attachment.content, "png")
            image.add_header("Content-ID", f"<{attachment.name}>")  # the HTML shows it as cid:<name>
            image.add_header("Content-Disposition", "inline", filename=attachment.name)
            mail.attach(image)
        else:
            mail.attach(attachment.name, attachment.content, attachment.mimetype)
    try:
        mail.send(fail_silently=False)
    except Exception as exc:  # smtplib and socket errors of many kinds; all carry a readable text
        permanent = getattr(exc, "smtp_code", 0) and 500 <= int(exc.smtp_code) < 600
        raise ChannelError(f"e-mail not sent: {exc}"[:1000], transient=not permanent) from exc


def channel_send(*, channel: Channel, message: Message) -> None:
    """Send one message. Raises ChannelError (text safe to show, `transient` set) on failure.
    Not idempotent by itself: callers claim the notification first."""
    if channel.kind == Channel.Kind.EMAIL:
        _send_email(to=channel.email_to, message=message)
        return
    try:
        url = secret_decrypt(channel.url_encrypted)
    except SecretError as exc:
        raise ChannelError(str(exc)) from exc
    _send_apprise(url=url, message=message)


def channel_test(*, channel: Channel) -> tuple[bool, str]:
    """Send a test message now and remember the outcome on the channel."""
    message = Message(
        title="PriceTracker test",
        text="This is a test from PriceTracker: this channel works.\n",
        html="<p>This is a test from PriceTracker: this channel works.</p>",
    )
    try:
        channel_send(channel=channel, message=message)
        ok, error = True, ""
    except ChannelError as exc:
        ok, error = False, str(exc)
    Channel.objects.filter(pk=channel.pk).update(
        last_test_at=timezone.now(), last_test_ok=ok, last_test_error=error
    )
    channel.last_test_ok, channel.last_test_error = ok, error
    log.info("channel test", extra={"channel_id": channel.pk, "ok": ok})
    return ok, error


__all__ = [
    "MASK",
    "ChannelError",
    "channel_add",
    "channel_send",
    "channel_set_target",
    "channel_test",
    "channel_url_validate",
]
