from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import views

app_name = "accounts"

_reset = views.password_reset_enabled

urlpatterns = [
    path("settings/", views.settings_view, name="settings"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("accounts:password_change_done")),
        name="password_change",
    ),
    path("password/changed/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("signup/", views.signup, name="signup"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path(
        "password-reset/",
        _reset(auth_views.PasswordResetView.as_view(
            success_url=reverse_lazy("accounts:password_reset_done"),
            email_template_name="registration/password_reset_email.txt",
        )),
        name="password_reset",
    ),
    path("password-reset/sent/", _reset(auth_views.PasswordResetDoneView.as_view()), name="password_reset_done"),
    path(
        "reset/<uidb64>/<token>/",
        _reset(auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("accounts:password_reset_complete"))),
        name="password_reset_confirm",
    ),
    path("reset/done/", _reset(auth_views.PasswordResetCompleteView.as_view()), name="password_reset_complete"),
]
