"""The tiny district and road ladder of tests/cases/fixtures, plus households along the ladder."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.cases.categories import CategoryCatalog
from gis_api.routing.engine import RoadGraph
from gis_api.simulate.households import HouseholdSampler
from gis_api.simulate.simulation import Simulation, SimulationOptions, SimulationReport
from tests.cases import fixtures
from tests.routing import ladder

MONDAY_9 = datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
LADDER_HOUSEHOLDS = {
    # id: position; all in grid 42010600100101, a few metres off the lower row of the ladder
    101: ladder.midpoint(4, 5, north_m=-12),
    102: ladder.midpoint(5, 6, north_m=-12),
    103: ladder.midpoint(2, 5, north_m=0),
}


def build(connection: Connection) -> fixtures.World:
    world = fixtures.build(connection)
    for household_id, (lon, lat) in LADDER_HOUSEHOLDS.items():
        connection.execute(
            text(
                "INSERT INTO household (id, residents, grid_id, geom, district_code) "
                "VALUES (:i, 2, :g, ST_SetSRID(ST_MakePoint(:x, :y), 4326), '420106')"
            ),
            {"i": household_id, "g": world.grid_ids[fixtures.GRID_SW], "x": lon, "y": lat},
        )
    return world


def simulate(
    connection: Connection,
    minutes: float = 40,
    seed: int = 7,
    catalog: CategoryCatalog | None = None,
    photo_refs: tuple[str, ...] = (),
) -> tuple[SimulationReport, list[str]]:
    """Run the simulation as fast as possible inside the test transaction; report and progress lines."""
    lines: list[str] = []

    def sessions() -> Session:
        return Session(bind=connection, join_transaction_mode="create_savepoint")

    with sessions() as session:
        households = HouseholdSampler.from_session(session, spread_m=10.0, district="420106")
    options = SimulationOptions(
        rate_per_min=1.0, minutes=minutes, speed=float("inf"), seed=seed, start=MONDAY_9, progress_every=10,
        photo_refs=photo_refs, district="420106",
    )  # fmt: skip
    graph = RoadGraph.from_connection(connection)
    simulation = Simulation(sessions, graph, households, options, catalog=catalog, progress=lines.append)
    return simulation.run(), lines
