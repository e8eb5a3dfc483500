"""Settings read once from the environment (prefix-free names such as DATABASE_URL)."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Deployment settings; every field can be overridden by an environment variable."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_", extra="ignore")

    database_url: str | None = None
    """External PostgreSQL/PostGIS URL; None means the embedded cluster under var_dir. This is the
    owner's connection (migrations, loaders, planners' CLI), never the API's."""
    api_database_url: str | None = None
    """What the API connects with; None means the owner's server and database as the API role
    (gis_api.db.roles.API_ROLE), with the password `wangge db roles` kept, if any."""
    var_dir: Path = PROJECT_ROOT / "var"
    data_dir: Path = PROJECT_ROOT / "data" / "wuchang"
    """The Wuchang demo's inputs. Districts, their codes and metric CRS are data (`wangge district`)."""
    city_data_dir: Path = PROJECT_ROOT / "data" / "wuhan"
    """The city demo's inputs (`wangge demo --city`): Wuhan's district outlines, census, main roads."""
    grid_code_width: int = 2
    basemap: str = ""
    """Basemap preset (gis_api.basemaps.PRESETS: tianditu-vec, tianditu-img, amap-vec, amap-img);
    empty = none (fully offline) unless basemap_url is set."""
    tianditu_key: str = ""
    """Tianditu browser key (天地图 tk) for the tianditu-* presets."""
    basemap_url: str = ""
    """Tile URL template of another basemap; empty keeps the map fully offline."""
    basemap_attribution: str = ""
    basemap_datum: str = "wgs84"
    """Datum basemap_url's tiles are drawn in: wgs84, cgcs2000 or gcj02 (anything else is refused)."""
    demo_seed: int = 420106
    auth_secret: str = ""
    """HMAC key for bearer tokens; empty means a random key kept in <var_dir>/auth_secret."""
    auth_previous_secrets: str = ""
    """Earlier signing keys, comma-separated: tokens they signed stay valid until they expire."""
    token_ttl_s: int = 3600
    """Lifetime of an access token; clients renew it with their refresh token."""
    refresh_ttl_s: int = 14 * 24 * 3600
    """Lifetime of a refresh token (each use replaces it with a new one)."""
    public_base_url: str = ""
    """How the public reaches this server, e.g. https://wangge.example.gov.cn; used for links the API
    hands out (Open311 media, paging, printed survey links). Empty: relative links (the Host header
    is never trusted), except the operators' printable survey sheet, which needs absolute links and
    falls back to the operator's own request URL."""
    open311_per_minute_per_address: float = 10
    """Open311 posts allowed per client address per minute (also the burst)."""
    open311_per_minute_per_key: float = 120
    """Open311 posts allowed per API key (channel) per minute (also the burst)."""
    login_per_minute_per_address: float = 30
    """Login and refresh attempts per client address per minute (also the burst)."""
    residents_per_minute_per_address: float = 20
    """Residents' ratings and survey answers allowed per client address per minute (also the burst)."""
    residents_api_key: str = ""
    """The residents' page's Open311 channel key, handed to the page in /config.json and sent as
    `api_key`. It names the channel (rate limit per key, revocation with `wangge apikey revoke`); it
    is not a secret, since any visitor of the page can read it. Empty: the key `wangge demo`
    provisioned in <var_dir>/residents_api_key, if any."""
    notifier: str = ""
    """How state changes of residents' reports go out: 'log', 'webhook', or 'package.module:Class' (a
    Notifier, e.g. an SMS provider); empty: 'webhook' when notify_webhook_url is set, else 'log'."""
    notify_webhook_url: str = ""
    notify_webhook_secret: str = ""
    """HMAC key for the webhook's X-Wangge-Signature header; empty: unsigned."""
    notify_max_attempts: int = 8

    def public_link(self, path: str) -> str:
        """A link the API hands out: absolute under public_base_url when configured, else relative
        (never built from the request's Host header, which the client controls)."""
        return self.public_base_url.rstrip("/") + path if self.public_base_url else path


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, honouring plain DATABASE_URL as well as WANGGE_DATABASE_URL."""
    import os

    settings = Settings()
    if settings.database_url is None and os.environ.get("DATABASE_URL"):
        settings = settings.model_copy(update={"database_url": os.environ["DATABASE_URL"]})
    return settings
