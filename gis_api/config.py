"""Settings read once from the environment (prefix-free names such as DATABASE_URL)."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Deployment settings; every field can be overridden by an environment variable."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_", extra="ignore")

    database_url: str | None = None
    """External PostgreSQL/PostGIS URL; None means the embedded cluster under var_dir."""
    var_dir: Path = PROJECT_ROOT / "var"
    data_dir: Path = PROJECT_ROOT / "data" / "wuchang"
    """The Wuchang demo's inputs. Districts, their codes and metric CRS are data (`wangge district`)."""
    city_data_dir: Path = PROJECT_ROOT / "data" / "wuhan"
    """The city demo's inputs (`wangge demo --city`): Wuhan's district outlines, census, main roads."""
    grid_code_width: int = 2
    basemap_url: str = ""
    """Tile URL template for a basemap (e.g. Tianditu); empty keeps the map fully offline."""
    basemap_attribution: str = ""
    demo_seed: int = 420106
    auth_secret: str = ""
    """HMAC key for bearer tokens; empty means a random key kept in <var_dir>/auth_secret."""
    token_ttl_s: int = 28800
    public_url: str = ""
    """Where residents reach the server (https://…), for printed survey links; empty: the request's URL."""
    residents_api_key: str = ""
    """The residents' page's Open311 channel key (sent as api_key); empty until keys are required."""
    notifier: str = ""
    """How state changes of residents' reports go out: 'log', 'webhook', or 'package.module:Class' (a
    Notifier, e.g. an SMS provider); empty: 'webhook' when notify_webhook_url is set, else 'log'."""
    notify_webhook_url: str = ""
    notify_webhook_secret: str = ""
    """HMAC key for the webhook's X-Wangge-Signature header; empty: unsigned."""
    notify_max_attempts: int = 8


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, honouring plain DATABASE_URL as well as WANGGE_DATABASE_URL."""
    import os

    settings = Settings()
    if settings.database_url is None and os.environ.get("DATABASE_URL"):
        settings = settings.model_copy(update={"database_url": os.environ["DATABASE_URL"]})
    return settings
