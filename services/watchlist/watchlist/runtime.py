"""Assembly: settings -> database -> application. Called once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from watchlist.application import Watchlist
from watchlist.database import Database, master_key, open_database, signing_key
from watchlist.domain.taxonomy import Taxonomy
from watchlist.settings import Settings


def schemas_dir() -> Path:
    """``schemas/`` of the source checkout, or its copy inside an installed wheel."""
    packaged = Path(__file__).parent / "_schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "schemas"


def load_taxonomy() -> Taxonomy:
    return Taxonomy.from_json((schemas_dir() / "indicators.json").read_bytes())


@dataclass
class Runtime:
    settings: Settings
    database: Database
    app: Watchlist

    def signing_key(self) -> bytes:
        return signing_key(self.settings, self.database)

    def close(self) -> None:
        self.app.close()


def start(settings: Settings) -> Runtime:
    database = open_database(settings)
    env = database.eventsourcing_env() | {
        "POSTGRES_POOL_SIZE": str(settings.pool_size),
        "POSTGRES_MAX_OVERFLOW": str(settings.pool_overflow),
        "POSTGRES_PRE_PING": "y",
    }
    app = Watchlist(env, taxonomy=load_taxonomy(), master_key=master_key(settings, database))
    return Runtime(settings=settings, database=database, app=app)
