"""Households and residents per building, kept by the database, for the z14-15 household tiles.

A z14 tile of a dense city district holds tens of thousands of households; counting them per
building on every cold tile took about a second (bench/city.py). `building_households` holds one
row per (building, district of its households) with the count and the residents, and statement
triggers on `household` are its only writer: every load (COPY included), move, reassignment,
residents change, delete or truncate goes through them, whichever code path makes it. A statement
aggregates its transition table once, so a bulk load of a district adds one pass over its rows,
not one upsert per row. The district stays in the key because wide scopes (district, city)
select households by their own district code, and that rule must not change.

`building.households` is not that count: it is the figure a buildings file declared (the register
may bring the households separately), so it is left alone.

The trigger functions are SECURITY DEFINER, owned by the owner: the loaders (owner) and the API
(wangge_api, which may only change a household's grid_id) write `household` as before and need no
privilege on `building_households`; the API only reads it (gis_api/db/roles.py DERIVED_TABLES).

A partial index on the households without a building keeps the rest of a z14-15 tile (those are
drawn one by one) from scanning every household of the tile.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLE = """
CREATE TABLE building_households (
    building_id bigint NOT NULL,
    district_code varchar(12) NOT NULL,
    households integer NOT NULL,
    residents integer NOT NULL,
    PRIMARY KEY (building_id, district_code)
);
INSERT INTO building_households
SELECT building_id, district_code, count(*), coalesce(sum(residents), 0)
FROM household WHERE building_id IS NOT NULL GROUP BY 1, 2;
CREATE INDEX ix_household_geom_unhoused ON household USING gist (geom) WHERE building_id IS NULL;
"""

ARRIVING = "SELECT building_id, district_code, 1 AS n, residents FROM new_rows WHERE building_id IS NOT NULL"
LEAVING = (
    "SELECT building_id, district_code, -1 AS n, -residents AS residents FROM old_rows "
    "WHERE building_id IS NOT NULL"
)
SIGNED_ROWS = {"insert": ARRIVING, "delete": LEAVING, "update": f"{ARRIVING} UNION ALL {LEAVING}"}
"""One signed row per household arriving in (new_rows) or leaving (old_rows) a building."""

# The functions run as their owner (SECURITY DEFINER, the role that migrates, which owns the table)
# with a fixed search_path and schema-qualified names: whoever writes a household, the API role
# included, needs no privilege on building_households, and cannot redirect the function to objects
# of its own. Nobody may call them directly (EXECUTE revoked); PostgreSQL checks EXECUTE when a
# trigger is created, not when it fires.
# Sums the statement's signed rows per key, adds them (keys in order, so concurrent loads lock
# alike) and removes the keys left without households. Updates that move no household between
# buildings or districts and change no residents (a plan activation's grid_id) write nothing.
APPLY = """
CREATE FUNCTION building_households_{kind}() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    emptied_ids bigint[];
    emptied_codes text[];
BEGIN
    WITH signed AS ({signed}),
    delta AS (
        SELECT building_id, district_code, sum(n)::int AS n, coalesce(sum(residents), 0)::int AS r
        FROM signed GROUP BY 1, 2 HAVING sum(n) <> 0 OR coalesce(sum(residents), 0) <> 0
    ),
    applied AS (
        INSERT INTO public.building_households AS t (building_id, district_code, households, residents)
        SELECT building_id, district_code, n, r FROM delta ORDER BY 1, 2
        ON CONFLICT (building_id, district_code) DO UPDATE
        SET households = t.households + excluded.households, residents = t.residents + excluded.residents
        RETURNING t.building_id, t.district_code, t.households
    )
    SELECT array_agg(building_id), array_agg(district_code) INTO emptied_ids, emptied_codes
    FROM applied WHERE households <= 0;
    IF emptied_ids IS NOT NULL THEN
        DELETE FROM public.building_households t
        USING unnest(emptied_ids, emptied_codes) AS e(building_id, district_code)
        WHERE t.building_id = e.building_id AND t.district_code = e.district_code;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER building_households_on_{kind} AFTER {event} ON household
REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION building_households_{kind}();
REVOKE ALL ON FUNCTION building_households_{kind}() FROM PUBLIC;
"""
TRANSITIONS = {
    "insert": "NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}
TRUNCATE = """
CREATE FUNCTION building_households_truncate() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    TRUNCATE public.building_households;
    RETURN NULL;
END $$;
CREATE TRIGGER building_households_on_truncate AFTER TRUNCATE ON household
FOR EACH STATEMENT EXECUTE FUNCTION building_households_truncate();
REVOKE ALL ON FUNCTION building_households_truncate() FROM PUBLIC;
"""

DOWNGRADE = """
DROP TRIGGER IF EXISTS building_households_on_truncate ON household;
DROP TRIGGER IF EXISTS building_households_on_delete ON household;
DROP TRIGGER IF EXISTS building_households_on_update ON household;
DROP TRIGGER IF EXISTS building_households_on_insert ON household;
DROP FUNCTION IF EXISTS building_households_truncate();
DROP FUNCTION IF EXISTS building_households_delete();
DROP FUNCTION IF EXISTS building_households_update();
DROP FUNCTION IF EXISTS building_households_insert();
DROP INDEX IF EXISTS ix_household_geom_unhoused;
DROP TABLE IF EXISTS building_households;
"""


def upgrade() -> None:
    op.execute(TABLE)
    for kind, signed in SIGNED_ROWS.items():
        transition = TRANSITIONS[kind]
        op.execute(APPLY.format(kind=kind, signed=signed, event=kind.upper(), transition=transition))
    op.execute(TRUNCATE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
