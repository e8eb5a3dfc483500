"""Where the replaceable case configuration files live (env WANGGE_CATEGORIES_FILE, ...)."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

CASES_DIR = Path(__file__).resolve().parent


class CaseSettings(BaseSettings):
    """Paths of the category and working-calendar files; a city points these at its own copies."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_", extra="ignore")

    categories_file: Path = CASES_DIR / "categories_default.toml"
    calendar_file: Path = CASES_DIR / "calendar_default.toml"
