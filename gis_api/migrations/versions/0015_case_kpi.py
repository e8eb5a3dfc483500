"""Case KPIs kept as they change: per-case facts, summed per day and per month, maintained by triggers.

The assessment reads (GET /assessment/kpis, the street ranking, their exports) used to read every
case of the period with its events and derive each case's facts per request: 89 s for a city's
month. Now each case's facts live in `case_kpi`, one row per non-void case whose columns are
counts (the case's contribution to each KPI: 1 or 0, microseconds spent per stage), derived by ONE
SQL function, `case_kpi_of(incident)`. `case_kpi_day` and `case_kpi_month` hold the sums of those
rows per (day or month of the case's creation in the working calendar's zone, grid, community,
street, assigned member), and `case_kpi_street_day` / `case_kpi_street_month` per street alone
(what a city's street KPIs and ranking read). Statement-level triggers on `incident` and
`case_event` recompute the facts of the cases a statement touched and apply the difference to
all four sums (so a COPY of many
cases does one pass); a TRUNCATE of incidents empties them. A period is then read from whole
months, whole days and the cases of its partial days (gis_api.cases.kpi_store), and the ratios
are formed in Python (gis_api.cases.kpi.case_figures), the one owner of each KPI formula.

The trigger functions run as the owner (SECURITY DEFINER): the API role only reads the three
tables. Which timed stage each state belongs to is `case_stage` (guarded by a test against
gis_api.cases.workflow.STAGE_OF_STATE); the zone of the day buckets is `case_kpi_setting`.

`grid_households` holds the households per grid (kept by triggers on household), the familiarity
figure's denominator, which a city scope used to count from five million rows per request.

Also: indexes behind the foreign keys a district's removal follows (`wangge demo --reload` deletes
one district's rows): plan_assignment(household_id), incident(grid_id); and visit(visited_at)
and survey_response(surveyed_at) for the familiarity and opinion figures at city scope.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

STAGES = ("accept", "register", "dispatch", "dispose", "verify", "close")
COUNTS = (
    "cases", "registered", "closed", "on_time", "disposed", "reworked", "dispatched", "extended",
    "implemented", "rated", "rating_sum",
    *(f"{stage}_n" for stage in STAGES),
)  # fmt: skip
MICROSECONDS = tuple(f"{stage}_us" for stage in STAGES)
TALLIES = COUNTS + MICROSECONDS
KEYS = ("grid_code", "community_code", "street_code", "member_id")
STAGE_OF_STATE = {
    "reported": "accept",
    "accepted": "register",
    "registered": "dispatch",
    "returned": "dispatch",
    "dispatched": "dispose",
    "in_progress": "dispose",
    "disposed": "verify",
    "verified": "close",
}
FACT_COLUMNS = ", ".join(
    [
        *(f"{c} integer NOT NULL DEFAULT 0" for c in COUNTS),
        *(f"{c} bigint NOT NULL DEFAULT 0" for c in MICROSECONDS),
    ]
)
SUM_COLUMNS = ", ".join(f"{c} bigint NOT NULL DEFAULT 0" for c in TALLIES)
KEY_COLUMNS = (
    "grid_code varchar(20) NOT NULL, community_code varchar(12), street_code varchar(9), member_id integer"
)


def rollup(
    table: str, bucket: str, bucket_sql: str, source: str, sign: str, keys: str = ", ".join(KEYS)
) -> str:
    """An upsert adding (sign '+') or removing ('-') the rows of `source` to the sums of `table`."""
    sums = ", ".join(f"{sign}sum({c})" for c in TALLIES)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in TALLIES)
    return (
        f"INSERT INTO {table} ({bucket}, {keys}, {', '.join(TALLIES)}) "
        f"SELECT {bucket_sql}, {keys}, {sums} FROM {source} GROUP BY 1, {keys} ORDER BY 1, {keys} "
        f"ON CONFLICT ({bucket}, {keys}) DO UPDATE SET {updates}"
    )


def apply(source: str, sign: str) -> str:
    """Both sums of the rows of the CTE `source` (a DELETE's or INSERT's RETURNING)."""
    day_sql = "(created_at AT TIME ZONE bucket_zone)::date"
    month_sql = f"date_trunc('month', {day_sql})::date"
    return (
        f"d AS ({rollup('case_kpi_day', 'day', day_sql, source, sign)} RETURNING 1), "
        f"m AS ({rollup('case_kpi_month', 'month', month_sql, source, sign)} RETURNING 1), "
        f"sd AS ({rollup('case_kpi_street_day', 'day', day_sql, source, sign, 'street_code')} RETURNING 1) "
        f"{rollup('case_kpi_street_month', 'month', month_sql, source, sign, 'street_code')}"
    )


STAGE_VALUES = ", ".join(f"('{state}', '{stage}')" for state, stage in STAGE_OF_STATE.items())
STAGE_FACTS = ", ".join(
    [
        *(f"coalesce(max(s.n) FILTER (WHERE s.stage = '{stage}'), 0)" for stage in STAGES),
        *(f"coalesce(max(s.us) FILTER (WHERE s.stage = '{stage}'), 0)" for stage in STAGES),
    ]
)

UPGRADE = f"""
CREATE TABLE case_stage (state varchar(16) PRIMARY KEY, stage varchar(16) NOT NULL);
INSERT INTO case_stage VALUES {STAGE_VALUES};
CREATE TABLE case_kpi_setting (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    zone text NOT NULL
);
INSERT INTO case_kpi_setting (zone) VALUES ('Asia/Shanghai');

CREATE TABLE case_kpi (
    case_id bigint PRIMARY KEY,
    created_at timestamptz NOT NULL,
    {KEY_COLUMNS},
    {FACT_COLUMNS}
);
CREATE INDEX ix_case_kpi_created ON case_kpi (created_at);
CREATE TABLE case_kpi_day (day date NOT NULL, {KEY_COLUMNS}, {SUM_COLUMNS});
CREATE UNIQUE INDEX uq_case_kpi_day ON case_kpi_day (day, {", ".join(KEYS)}) NULLS NOT DISTINCT;
CREATE TABLE case_kpi_month (month date NOT NULL, {KEY_COLUMNS}, {SUM_COLUMNS});
CREATE UNIQUE INDEX uq_case_kpi_month ON case_kpi_month (month, {", ".join(KEYS)}) NULLS NOT DISTINCT;
-- the same sums per street only: a city's streets by month are a few hundred rows, not 17,000
CREATE TABLE case_kpi_street_day (day date NOT NULL, street_code varchar(9) NOT NULL, {SUM_COLUMNS},
    PRIMARY KEY (day, street_code));
CREATE TABLE case_kpi_street_month (month date NOT NULL, street_code varchar(9) NOT NULL, {SUM_COLUMNS},
    PRIMARY KEY (month, street_code));

-- The facts of one case: the one place they are derived. Each column is the case's contribution
-- to a KPI's numerator or denominator (gis_api.cases.kpi.case_figures forms the ratios).
CREATE FUNCTION case_kpi_of(i incident) RETURNS case_kpi LANGUAGE sql STABLE AS $$
WITH ev AS (
    SELECT e.action, e.role, e.at, lag(e.at) OVER w AS prev_at, lag(e.to_state) OVER w AS prev_state
    FROM case_event e WHERE e.case_id = i.id
    WINDOW w AS (ORDER BY e.id)
), facts AS (
    SELECT coalesce(bool_or(action = 'register'), false) AS registered,
           coalesce(bool_or(action IN ('dispose', 'self_dispose')), false) AS disposed,
           coalesce(bool_or(action = 'dispatch'), false) AS dispatched,
           coalesce(bool_or(action = 'supervise' AND role = 'system'), false) AS went_overdue,
           max(at) FILTER (WHERE action = 'verify') AS verified_at
    FROM ev
), stages AS (
    SELECT s.stage, 1 AS n, sum(extract(epoch FROM ev.at - ev.prev_at) * 1000000)::bigint AS us
    FROM ev JOIN case_stage s ON s.state = ev.prev_state
    GROUP BY s.stage
), deadline AS (
    SELECT CAST(i.deadlines ->> 'verify' AS timestamptz) AS verify,
           CAST(i.deadlines ->> 'close' AS timestamptz) AS close
)
SELECT ROW(
    i.id, i.created_at, i.grid_code, i.community_code, i.street_code, i.assigned_member_id,
    1,
    f.registered::int,
    (i.state = 'closed')::int,
    (i.state = 'closed' AND NOT f.went_overdue
         AND NOT coalesce(d.close IS NOT NULL AND i.closed_at > d.close, false))::int,
    f.disposed::int,
    (f.disposed AND i.rework_count > 0)::int,
    f.dispatched::int,
    (f.dispatched AND i.extensions_granted > 0)::int,
    (i.state = 'closed'
         AND (f.verified_at IS NULL OR d.verify IS NULL OR f.verified_at <= d.verify)
         AND (i.closed_at IS NULL OR d.close IS NULL OR i.closed_at <= d.close))::int,
    (i.rating IS NOT NULL)::int,
    coalesce(i.rating, 0),
    {STAGE_FACTS}
)::case_kpi
FROM facts f CROSS JOIN deadline d LEFT JOIN stages s ON true
GROUP BY f.registered, f.disposed, f.dispatched, f.went_overdue, f.verified_at, d.verify, d.close
$$;

-- Recompute the facts of these cases and move both sums by the difference. Rows whose facts did
-- not change are left alone (an escalation flag or a new deadline writes nothing here).
CREATE FUNCTION case_kpi_sync(ids bigint[]) RETURNS void LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    bucket_zone text := (SELECT s.zone FROM case_kpi_setting s);
BEGIN
    WITH gone AS (
        DELETE FROM case_kpi k WHERE k.case_id = ANY(ids) AND NOT EXISTS (
            SELECT 1 FROM incident i
            WHERE i.id = k.case_id AND i.state <> 'void' AND case_kpi_of(i) IS NOT DISTINCT FROM k)
        RETURNING k.*
    ), {apply("gone", "-")};
    WITH added AS (
        INSERT INTO case_kpi
        SELECT f.* FROM incident i CROSS JOIN LATERAL case_kpi_of(i) f  -- (f(i)).* would call it per column
        WHERE i.id = ANY(ids) AND i.state <> 'void' ORDER BY i.id
        ON CONFLICT (case_id) DO NOTHING
        RETURNING *
    ), {apply("added", "+")};
END $$;

CREATE FUNCTION case_kpi_rebuild() RETURNS void LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    TRUNCATE case_kpi, case_kpi_day, case_kpi_month, case_kpi_street_day, case_kpi_street_month;
    PERFORM case_kpi_sync(ARRAY(SELECT id FROM incident ORDER BY id));
END $$;

CREATE FUNCTION case_kpi_incident_changed() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM case_kpi_sync(ARRAY(SELECT id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM case_kpi_sync(ARRAY(SELECT id FROM old_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        -- only the columns the facts read: a moved deadline or an escalation costs nothing
        PERFORM case_kpi_sync(ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (n.state, n.created_at, n.grid_code, n.community_code, n.street_code,
                   n.assigned_member_id, n.closed_at, n.rework_count, n.extensions_granted,
                   n.rating, n.deadlines)
                  IS DISTINCT FROM
                  (o.state, o.created_at, o.grid_code, o.community_code, o.street_code,
                   o.assigned_member_id, o.closed_at, o.rework_count, o.extensions_granted,
                   o.rating, o.deadlines)));
    ELSE
        TRUNCATE case_kpi, case_kpi_day, case_kpi_month, case_kpi_street_day, case_kpi_street_month;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION case_kpi_event_changed() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM case_kpi_sync(ARRAY(SELECT DISTINCT case_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM case_kpi_sync(ARRAY(SELECT DISTINCT case_id FROM old_rows));
    ELSE
        PERFORM case_kpi_rebuild();
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tr_case_kpi_incident_insert AFTER INSERT ON incident
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION case_kpi_incident_changed();
CREATE TRIGGER tr_case_kpi_incident_update AFTER UPDATE ON incident
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION case_kpi_incident_changed();
CREATE TRIGGER tr_case_kpi_incident_delete AFTER DELETE ON incident
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION case_kpi_incident_changed();
CREATE TRIGGER tr_case_kpi_incident_truncate AFTER TRUNCATE ON incident
    FOR EACH STATEMENT EXECUTE FUNCTION case_kpi_incident_changed();
CREATE TRIGGER tr_case_kpi_event_insert AFTER INSERT ON case_event
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION case_kpi_event_changed();
CREATE TRIGGER tr_case_kpi_event_delete AFTER DELETE ON case_event
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION case_kpi_event_changed();
CREATE TRIGGER tr_case_kpi_event_truncate AFTER TRUNCATE ON case_event
    FOR EACH STATEMENT EXECUTE FUNCTION case_kpi_event_changed();

REVOKE ALL ON FUNCTION case_kpi_sync(bigint[]), case_kpi_rebuild() FROM PUBLIC;
SELECT case_kpi_rebuild();

-- Households per grid, kept by the one trigger on household: the familiarity figure divides by it,
-- and counting five million households per request took seconds at city scope.
CREATE TABLE grid_households (grid_id integer PRIMARY KEY, households bigint NOT NULL);
INSERT INTO grid_households
SELECT grid_id, count(*) FROM household WHERE grid_id IS NOT NULL GROUP BY grid_id;

CREATE FUNCTION grid_households_changed() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE grid_households;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO grid_households
        SELECT grid_id, count(*) FROM new_rows WHERE grid_id IS NOT NULL GROUP BY grid_id ORDER BY grid_id
        ON CONFLICT (grid_id) DO UPDATE SET households = grid_households.households + excluded.households;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE grid_households g SET households = g.households - gone.n
        FROM (SELECT grid_id, count(*) AS n FROM old_rows GROUP BY grid_id) gone
        WHERE g.grid_id = gone.grid_id;
    ELSE  -- an update that moves nobody between grids writes nothing
        INSERT INTO grid_households
        SELECT grid_id, sum(n) FROM (
            SELECT grid_id, -1 AS n FROM old_rows UNION ALL SELECT grid_id, 1 FROM new_rows
        ) moved WHERE grid_id IS NOT NULL GROUP BY grid_id HAVING sum(n) <> 0 ORDER BY grid_id
        ON CONFLICT (grid_id) DO UPDATE SET households = grid_households.households + excluded.households;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tr_grid_households_insert AFTER INSERT ON household
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grid_households_changed();
CREATE TRIGGER tr_grid_households_update AFTER UPDATE ON household
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grid_households_changed();
CREATE TRIGGER tr_grid_households_delete AFTER DELETE ON household
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION grid_households_changed();
CREATE TRIGGER tr_grid_households_truncate AFTER TRUNCATE ON household
    FOR EACH STATEMENT EXECUTE FUNCTION grid_households_changed();

CREATE INDEX ix_plan_assignment_household ON plan_assignment (household_id);
CREATE INDEX ix_incident_grid_id ON incident (grid_id);
CREATE INDEX ix_visit_visited_at ON visit (visited_at);
CREATE INDEX ix_survey_response_surveyed_at ON survey_response (surveyed_at);
"""

DOWNGRADE = """
DROP INDEX IF EXISTS ix_survey_response_surveyed_at;
DROP INDEX IF EXISTS ix_visit_visited_at;
DROP INDEX IF EXISTS ix_incident_grid_id;
DROP INDEX IF EXISTS ix_plan_assignment_household;
DROP TRIGGER IF EXISTS tr_grid_households_truncate ON household;
DROP TRIGGER IF EXISTS tr_grid_households_delete ON household;
DROP TRIGGER IF EXISTS tr_grid_households_update ON household;
DROP TRIGGER IF EXISTS tr_grid_households_insert ON household;
DROP FUNCTION IF EXISTS grid_households_changed();
DROP TABLE IF EXISTS grid_households;
DROP TRIGGER IF EXISTS tr_case_kpi_event_truncate ON case_event;
DROP TRIGGER IF EXISTS tr_case_kpi_event_delete ON case_event;
DROP TRIGGER IF EXISTS tr_case_kpi_event_insert ON case_event;
DROP TRIGGER IF EXISTS tr_case_kpi_incident_truncate ON incident;
DROP TRIGGER IF EXISTS tr_case_kpi_incident_delete ON incident;
DROP TRIGGER IF EXISTS tr_case_kpi_incident_update ON incident;
DROP TRIGGER IF EXISTS tr_case_kpi_incident_insert ON incident;
DROP FUNCTION IF EXISTS case_kpi_event_changed();
DROP FUNCTION IF EXISTS case_kpi_incident_changed();
DROP FUNCTION IF EXISTS case_kpi_rebuild();
DROP FUNCTION IF EXISTS case_kpi_sync(bigint[]);
DROP FUNCTION IF EXISTS case_kpi_of(incident);
DROP TABLE IF EXISTS case_kpi_street_month, case_kpi_street_day, case_kpi_month, case_kpi_day, case_kpi,
    case_kpi_setting, case_stage;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
