# Per-user display currency and the latest reference exchange rates (issue 17, item 8).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("tracker", "0031_store_names_and_port"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExchangeRate",
            fields=[
                ("currency", models.CharField(max_length=3, primary_key=True, serialize=False)),
                ("per_euro", models.DecimalField(decimal_places=8, max_digits=20)),
                ("published_on", models.DateField()),
                ("fetched_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={"ordering": ["currency"]},
        ),
        migrations.CreateModel(
            name="Preference",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("display_currency", models.CharField(blank=True, max_length=3)),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tracker_preference",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
