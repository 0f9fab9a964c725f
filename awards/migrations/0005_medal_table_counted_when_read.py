"""The medal table is counted from the awards when read (awards.medals): the
stored copy goes. Nothing is lost: it was derived from the awards."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("awards", "0004_batch_zips_as_generated_files"),
    ]

    operations = [
        migrations.DeleteModel(name="MedalTableRow"),
        migrations.DeleteModel(name="MedalTable"),
    ]
