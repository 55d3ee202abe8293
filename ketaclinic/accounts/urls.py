from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import JavaScriptCatalog

from . import mfa_views, passkeys, token_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # Second factor: everything an unverified session may reach lives under mfa/.
    path("mfa/", mfa_views.overview, name="mfa"),
    path("mfa/enrol/", mfa_views.enrol, name="mfa_enrol"),
    path("mfa/verify/", mfa_views.verify, name="mfa_verify"),
    path("mfa/recovery-codes/", mfa_views.recovery_codes, name="mfa_recovery_codes"),
    path(
        "mfa/devices/<str:kind>/<int:device_id>/remove/",
        mfa_views.remove_device,
        name="mfa_remove_device",
    ),
    path("mfa/passkeys/", mfa_views.passkey_list, name="mfa_passkeys"),
    path(
        "mfa/passkeys/register/begin/",
        passkeys.PasskeyRegisterBegin.as_view(),
        name="passkey_register_begin",
    ),
    path(
        "mfa/passkeys/register/complete/",
        passkeys.PasskeyRegisterComplete.as_view(),
        name="passkey_register_complete",
    ),
    path(
        "mfa/passkeys/verify/begin/",
        passkeys.PasskeyVerifyBegin.as_view(),
        name="passkey_verify_begin",
    ),
    path(
        "mfa/passkeys/verify/complete/",
        passkeys.PasskeyVerifyComplete.as_view(),
        name="passkey_verify_complete",
    ),
    path(
        "mfa/jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="mfa_jsi18n",
    ),
    path("tokens/", token_views.token_list, name="tokens"),
    path("tokens/<int:token_id>/revoke/", token_views.token_revoke, name="token_revoke"),
]
