"""Forms parse and check the shape of input; rules live in the services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

from confide.accounts.places import countries, time_zones
from confide.care.models import LIVE_SESSION_MINUTES, CareKind
from confide.errors import DomainError


def country_choices() -> list[tuple[str, str]]:
    return [("", "Choose your country"), *countries().items()]


def zone_choices() -> list[tuple[str, str]]:
    return [(zone, zone.replace("_", " ")) for zone in time_zones()]


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"]).strip().lower()


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Six-digit code",
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]*",
                "autofocus": True,
            }
        ),
    )


class ProfileForm(forms.Form):
    display_name = forms.CharField(label="Your name", max_length=80)
    time_zone = forms.ChoiceField(label="Time zone", choices=zone_choices)
    country = forms.ChoiceField(
        label="Country",
        choices=country_choices,
        help_text="Used to show the crisis lines that work where you are.",
    )
    locale = forms.ChoiceField(label="Language", choices=settings.LANGUAGES)


class SignupForm(ProfileForm):
    password = forms.CharField(
        label="Choose a password",
        strip=False,
        min_length=10,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password.",
    )
    password_again = forms.CharField(
        label="Password again",
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, object] | None:
        data = super().clean()
        if data and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords are not the same.")
        return data


class ClientInviteForm(forms.Form):
    kind = forms.ChoiceField(
        label="Who are you inviting?",
        choices=CareKind.choices,
        widget=forms.RadioSelect,
        initial=CareKind.INDIVIDUAL,
    )
    email = forms.EmailField(label="Client's email")
    partner_email = forms.EmailField(
        label="Second partner's email", required=False, help_text="Only for couples."
    )


class TherapistInviteForm(forms.Form):
    email = forms.EmailField(label="Therapist's email")


class ReassignForm(forms.Form):
    therapist = forms.IntegerField(label="New therapist", min_value=1)


class PracticeForm(forms.Form):
    name = forms.CharField(label="Practice name", max_length=120)
    reply_window_business_days = forms.IntegerField(
        label="Reply window (business days)", min_value=1, max_value=10
    )
    escalation_grace_hours = forms.IntegerField(
        label="Tell the admin when a reply is overdue by (hours)", min_value=1, max_value=240
    )
    live_session_minutes = forms.TypedChoiceField(
        label="Planned length of a live session",
        choices=[(m, f"{m} minutes") for m in LIVE_SESSION_MINUTES],
        coerce=int,
        required=False,
        empty_value=None,
    )


class AccessTokenForm(forms.Form):
    name = forms.CharField(label="Token name", max_length=80)
    ttl_days = forms.IntegerField(label="Valid for (days)", min_value=1, max_value=365, initial=90)


class PreferencesForm(forms.Form):
    email_notifications = forms.BooleanField(
        label="Email me when something new arrives (never what was written)", required=False
    )
    read_receipts = forms.BooleanField(
        label="Let others in my rooms see when I have read their messages", required=False
    )
    hide_network_address = forms.BooleanField(
        label="Hide my network address in calls (calls go through the relay server; may add delay)",
        required=False,
    )
    quiet_hours_start = forms.TimeField(
        label="Quiet hours from", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    quiet_hours_end = forms.TimeField(
        label="Quiet hours until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="No emails between these times (your time zone).",
    )


WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class ScheduleForm(forms.Form):
    time_zone = forms.ChoiceField(label="Time zone", choices=zone_choices)
    weekdays = forms.TypedMultipleChoiceField(
        label="Working days", choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    start = forms.TimeField(
        label="Working hours from", widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(label="until", widget=forms.TimeInput(attrs={"type": "time"}))
    holiday_country = forms.ChoiceField(
        label="Public holidays of", choices=country_choices, required=False
    )


class AwayForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="Away from", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label="Back on", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class AuditFilterForm(forms.Form):
    actor = forms.TypedChoiceField(label="Person", required=False, coerce=int, empty_value=None)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="Until", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def apply_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's field errors on the form they came from."""
    placed = False
    for field, messages in error.field_errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)
