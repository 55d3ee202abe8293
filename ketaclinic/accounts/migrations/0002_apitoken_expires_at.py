"""API tokens get an expiry; tokens issued before this expire 90 days after creation."""

import datetime

from django.db import migrations, models

# The lifetime given to tokens issued before tokens expired (accounts.models.TOKEN_LIFETIME_DAYS
# at the time; copied, as a migration must not follow later changes to the constant).
EXISTING_TOKEN_LIFETIME = datetime.timedelta(days=90)


def give_existing_tokens_an_expiry(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in ApiToken.objects.filter(expires_at__isnull=True).only("pk", "created_at"):
        ApiToken.objects.filter(pk=token.pk).update(
            expires_at=token.created_at + EXISTING_TOKEN_LIFETIME
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(give_existing_tokens_an_expiry, migrations.RunPython.noop),
    ]
