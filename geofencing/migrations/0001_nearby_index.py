"""PostgreSQL only: a distance index on the shops' coordinates, for the nearby-offer search.

``cube`` and ``earthdistance`` (contrib extensions shipped with PostgreSQL; both trusted, so a
database owner may create them) turn a latitude/longitude into a point on the Earth's surface
(``earth``, a 3-D cube). A GiST index on that point serves both "inside this box" (``@>``
``earth_box``) and "nearest first" (``<->``, a k-nearest-neighbour scan), so a search reads the
shops near the caller only, never every shop. See docs/nearby.md.

The point comes from ``geofencing_earth_point`` rather than ``ll_to_earth`` itself: the
extension's functions call each other without a schema, and a restore (pg_dump sets an empty
search_path) could then not rebuild an index on them. Our function names its schema.

The index sits on merchants' table because it serves geofencing's read alone; merchants stores
coordinates as plain decimals and needs to know nothing of it. On SQLite nothing is created: the
search there takes a bounding box and computes distances in Python (the embedded setup is small).
"""

from django.db import migrations

LOCATION_TABLE = "merchants_location"


def _forward_sql(schema: str, search_path: str) -> list[str]:
    return [
        f"""
        CREATE FUNCTION geofencing_earth_point(latitude numeric, longitude numeric) RETURNS {schema}.earth
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            SET search_path = {search_path}, pg_catalog
            AS $$ SELECT {schema}.ll_to_earth($1::float8, $2::float8) $$
        """,
        f"CREATE INDEX geofencing_location_earth ON {LOCATION_TABLE} USING gist (geofencing_earth_point(latitude, longitude))",
    ]


BACKWARD_SQL = [
    "DROP INDEX IF EXISTS geofencing_location_earth",
    "DROP FUNCTION IF EXISTS geofencing_earth_point(numeric, numeric)",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS cube", params=None)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS earthdistance", params=None)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.extname, quote_ident(n.nspname) FROM pg_extension e"
            " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname IN ('cube', 'earthdistance')"
        )
        schemas = dict(cursor.fetchall())
    search_path = ", ".join(dict.fromkeys([schemas["earthdistance"], schemas["cube"]]))
    for statement in _forward_sql(schemas["earthdistance"], search_path):
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    # The extensions stay: other databases objects may use them, and keeping them costs nothing.
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in BACKWARD_SQL:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("merchants", "0007_partnerrequest_updated_at")]

    operations = [migrations.RunPython(forward, backward)]
