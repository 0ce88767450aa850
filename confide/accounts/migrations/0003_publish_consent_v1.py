from django.db import migrations

BODY = """This informed-consent text is a template for a demonstration practice. A real practice \
replaces it with its own text, reviewed for its jurisdiction, by publishing a new version.

What therapy on Confide is. You work with a licensed therapist in writing (messages you send \
at any time, answered within the reply window shown in your room), in live text sessions, by \
voice or video, and by email if you choose it. Online therapy has benefits and limits: written \
messages can be misread, and video can lag, which makes expressions harder to read.

Not for emergencies. Messages are not monitored around the clock. If you are in danger or may \
harm yourself or someone else, call your local emergency number or a crisis line straight away. \
Your country's crisis lines are always shown in Confide.

Confidentiality and its limits. What you write is private between you and your therapist (and, \
in a couples room, your partner). Your therapist may have to break confidentiality where the law \
requires it, for example to protect someone from serious harm. In couples therapy, each partner \
also has a private room that the other partner can never read.

Your record. Everything written in Confide forms one record you can read and export at any time. \
Every access to it is logged. It is encrypted when stored and never shared with advertisers or \
other third parties.

Your choices. You can stop at any time, ask questions about this text, and ask for your record."""


def publish(apps, schema_editor):
    ConsentDocument = apps.get_model("accounts", "ConsentDocument")
    ConsentDocument.objects.get_or_create(
        version=1, defaults={"title": "Informed consent for online therapy", "body": BODY}
    )


def unpublish(apps, schema_editor):
    apps.get_model("accounts", "ConsentDocument").objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_user_practice_and_links")]
    operations = [migrations.RunPython(publish, unpublish)]
