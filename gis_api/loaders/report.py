"""What a load did, in numbers and readable lines, for the CLI and the logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MAX_LISTED_MESSAGES = 20


@dataclass
class LoadReport:
    """Counts of one file load into one table, plus the repairs and notes worth showing a person."""

    path: Path
    target: str
    """The table written, e.g. "street" or "household"."""
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    """Rows already present with identical values: a reload of the same file is all unchanged."""
    repaired: int = 0
    rejected: int = 0
    """Features skipped because they were invalid (only with skip_invalid)."""
    elapsed_s: float = 0.0
    messages: list[str] = field(default_factory=list)
    rejected_file: Path | None = None
    """Where the skipped rows were written with their reasons (--skip-invalid/--skip-outside)."""

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def __str__(self) -> str:
        head = (
            f"{self.path.name} -> {self.target}: {self.inserted} inserted, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.repaired} repaired, {self.rejected} rejected "
            f"in {self.elapsed_s:.1f} s"
        )
        return "\n".join([head, *format_messages(self.messages)])


def format_messages(messages: list[str]) -> list[str]:
    """Indented message lines, the long tail summarised so a big file does not flood the terminal."""
    lines = [f"  - {message}" for message in messages[:MAX_LISTED_MESSAGES]]
    if len(messages) > MAX_LISTED_MESSAGES:
        lines.append(f"  … and {len(messages) - MAX_LISTED_MESSAGES} more")
    return lines
