"""PostgreSQL only: a distance index on the shops' coordinates, for the nearby-offer search.

The ``cube`` extension (contrib, shipped with PostgreSQL; trusted, so a database owner may create it)
gives 3-D points and a GiST operator class whose ``<->`` is the straight-line distance, usable for a
k-nearest-neighbour index scan. ``geofencing_earth_point`` puts a latitude/longitude on a sphere of
the radius the ``earthdistance`` extension uses (6 378 168 m): the straight line between two points
(the chord) grows with the great-circle distance, so "nearest chord first" is "nearest first". A GiST
index on that point lets a search read the shops nearest to the caller only, never every shop.
See docs/nearby.md.

The function is plain SQL with every name qualified by its schema and no ``SET`` clause, so the planner
inlines it (the index expression and the queries' expression then match, and computing it costs about
what the arithmetic costs), and a restore (pg_dump sets an empty search_path) can rebuild the index.

The index sits on merchants' table because it serves geofencing's read alone; merchants stores
coordinates as plain decimals and needs to know nothing of it. On SQLite nothing is created: the search
there takes a bounding box and computes distances in Python (the embedded setup is small).
"""

from django.db import migrations

LOCATION_TABLE = "merchants_location"
EARTH_RADIUS_M = 6_378_168  # earthdistance's earth(); geofencing.selectors.EARTH_RADIUS_M


def _forward_sql(cube: str) -> list[str]:
    lat, lng = "radians($1::float8)", "radians($2::float8)"
    x = f"{EARTH_RADIUS_M}::float8 * pg_catalog.cos({lat}) * pg_catalog.cos({lng})"
    y = f"{EARTH_RADIUS_M}::float8 * pg_catalog.cos({lat}) * pg_catalog.sin({lng})"
    z = f"{EARTH_RADIUS_M}::float8 * pg_catalog.sin({lat})"
    return [
        f"""
        CREATE FUNCTION geofencing_earth_point(latitude numeric, longitude numeric) RETURNS {cube}.cube
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $$ SELECT {cube}.cube({cube}.cube({cube}.cube({x}), {y}), {z}) $$
        """.replace("radians(", "pg_catalog.radians("),
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
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(n.nspname) FROM pg_extension e"
            " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'cube'"
        )
        (schema,) = cursor.fetchone()
    for statement in _forward_sql(schema):
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    # The extension stays: other objects may use it, and keeping it costs nothing.
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in BACKWARD_SQL:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("merchants", "0007_partnerrequest_updated_at")]

    operations = [migrations.RunPython(forward, backward)]
