"""People: create_user, invitations from the admin, optional sign-up, password reset by e-mail."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "kettle-copper-49"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _signup_data(username="dora", email="dora@[127.0.0.1]", password=GOOD_PASSWORD) -> dict:
    return {"username": username, "email": email, "password1": password, "password2": password}


# --- manage.py create_user ------------------------------------------------------------------


def test_create_user_makes_an_ordinary_account_that_can_log_in(client):
    out = StringIO()
    call_command("create_user", "erin", "--email", "erin@[127.0.0.1]", "--password", GOOD_PASSWORD, stdout=out)

    erin = get_user_model().objects.get(username="erin")
    assert (erin.is_staff, erin.is_superuser, erin.email) == (False, False, "erin@[127.0.0.1]")
    assert "not staff" in out.getvalue()
    assert client.login(username="erin", password=GOOD_PASSWORD)
    assert client.get(reverse("tracker:dashboard")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302  # no way into the admin


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["erin", "--password", "short"], "too short"),
        (["alice", "--password", GOOD_PASSWORD], "already exists"),
        (["erin", "--email", "not-an-address", "--password", GOOD_PASSWORD], "valid email"),
        (["erin"], "no password"),  # no terminal under pytest: nothing to ask on
    ],
    ids=["weak-password", "taken-name", "bad-email", "no-password"],
)
def test_create_user_refuses_clearly(user, args, message):
    with pytest.raises(CommandError, match=f"(?i){message}"):
        call_command("create_user", *args)
    assert not get_user_model().objects.filter(username="erin").exists()


# --- Invitations ----------------------------------------------------------------------------


def _path(link: str) -> str:
    """The path of a full link (the tests' server answers any host name)."""
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def _invite(admin_client, **fields) -> str:
    response = admin_client.post(reverse("admin:accounts_invitation_add"), fields, follow=True)
    shown = response.content.decode()
    link = re.search(r'<code class="invite-link">([^<]+)</code>', shown)
    assert link, shown[:3000]
    return link.group(1)


def test_an_invitation_link_from_the_admin_signs_up_one_ordinary_person_once(admin_client, client):
    link = _invite(admin_client, email="dora@[127.0.0.1]", note="Dora from the allotment")
    path = _path(link)
    form = client.get(path)
    assert form.status_code == 200 and 'value="dora@[127.0.0.1]"' in form.content.decode()

    response = client.post(path, _signup_data())

    assert response.status_code == 302 and response["Location"] == reverse("tracker:dashboard")
    dora = get_user_model().objects.get(username="dora")
    assert not dora.is_staff and client.get(reverse("tracker:dashboard")).status_code == 200  # logged in
    invitation = Invitation.objects.get()
    assert invitation.used_by == dora and invitation.state == "used"
    client.logout()
    again = client.post(path, _signup_data(username="mallory"))
    assert again.status_code == 404 and "does not work" in again.content.decode()
    assert not get_user_model().objects.filter(username="mallory").exists()


def test_a_new_link_replaces_the_old_and_links_expire(admin_client, client, settings):
    old = _invite(admin_client, note="Finn")
    invitation = Invitation.objects.get()
    response = admin_client.post(
        reverse("admin:accounts_invitation_changelist"),
        {"action": "link_make", "_selected_action": [invitation.pk]},
        follow=True,
    )
    new = re.search(r'<code class="invite-link">([^<]+)</code>', response.content.decode()).group(1)
    assert new != old
    assert _path(old).startswith("/accounts/invitation/")
    assert client.get(_path(old)).status_code == 404
    new_path = _path(new)
    assert client.get(new_path).status_code == 200
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(new_path).status_code == 404


def test_a_refused_sign_up_leaves_the_invitation_open(admin_client, client):
    link = _invite(admin_client, note="Gus")
    path = _path(link)
    response = client.post(path, _signup_data(username="admin", password=GOOD_PASSWORD))  # name taken
    assert response.status_code == 400 and "already exists" in response.content.decode()
    assert Invitation.objects.get().state == "open"


# --- Self sign-up ---------------------------------------------------------------------------


def test_self_sign_up_is_off_unless_switched_on(client, settings):
    assert client.get(reverse("accounts:signup")).status_code == 404
    assert "Create an account" not in client.get(reverse("login")).content.decode()

    settings.SIGNUP_ENABLED = True
    assert "Create an account" in client.get(reverse("login")).content.decode()
    response = client.post(reverse("accounts:signup"), _signup_data(username="hana"))
    assert response.status_code == 302
    assert not get_user_model().objects.get(username="hana").is_staff

    mismatch = client.post(reverse("accounts:signup"), {**_signup_data(username="ivo"), "password2": "other-words-1"})
    assert mismatch.status_code == 400 and "differ" in mismatch.content.decode()


# --- Password reset by e-mail -----------------------------------------------------------------


def test_password_reset_needs_mail_switched_on(client):
    assert client.get(reverse("accounts:password_reset")).status_code == 404
    assert "Forgot your password?" not in client.get(reverse("login")).content.decode()


def test_a_reset_link_by_e_mail_sets_a_new_password(client, user, settings):
    settings.PASSWORD_RESET_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user.email = "alice@[127.0.0.1]"
    user.save()
    login_page = client.get(reverse("login")).content.decode()
    assert "Forgot your password?" in login_page

    response = client.post(reverse("accounts:password_reset"), {"email": "alice@[127.0.0.1]"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@[127.0.0.1]"]
    assert mail.outbox[0].subject == "Your PriceTracker password"
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    path = _path(link)

    form = client.get(path, follow=True)  # Django moves the token out of the address first
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "new-kettle-2026", "new_password2": "new-kettle-2026"}
    )
    assert done.status_code == 302
    assert client.login(username="alice", password="new-kettle-2026")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, settings):
    settings.PASSWORD_RESET_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@[127.0.0.1]"})
    assert response.status_code == 302 and mail.outbox == []


# --- Rate limits ------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["accounts:signup", "accounts:password_reset"])
def test_sign_up_and_reset_forms_share_the_login_rate_limit(client, settings, view):
    from django.core.cache import cache

    cache.clear()
    settings.SIGNUP_ENABLED = settings.PASSWORD_RESET_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.RATELIMIT_LOGIN = "2/60"
    data = {"email": "nobody@[127.0.0.1]", **_signup_data(username="")}
    codes = [client.post(reverse(view), data).status_code for _ in range(3)]
    cache.clear()
    assert codes[2] == 429 and 429 not in codes[:2]
