from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0002_presence_rooms_and_delivery"),
    ]

    operations = [
        migrations.AddField(
            model_name="roommember",
            name="delivery",
            field=models.CharField(
                choices=[("notify", "Notify me"), ("email", "Email therapy"), ("none", "No email")],
                default="notify",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="roommember",
            name="emailed_seq",
            field=models.BigIntegerField(default=0),
        ),
    ]
