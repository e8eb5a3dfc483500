"""Bodies of the hotline desk: a phoned-in case with its caller, duplicate hints, the category tree."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from pydantic import BaseModel, Field, field_validator, model_validator

from gis_api.cases.schemas import CaseCreate
from gis_api.inputs import Text

PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ()\-]{2,30}$")
"""Mobile (13812345678), landline with area code (027-8888 1234) or an extension: digits first."""


def _plain_text(value: str, what: str) -> str:
    """Trimmed one-line text: after gis_api.inputs.Text (no control characters), also no line break
    or tab (in a name or a phone number they are typing accidents)."""
    text = unicodedata.normalize("NFC", value).strip()
    if any(char in text for char in "\t\n\r"):
        raise ValueError(f"{what} must be one line")
    return text


class HotlineCaseIn(CaseCreate):
    """POST /hotline/cases: what the caller reports, where (as POST /cases), and how to call them back."""

    description: Text = Field(min_length=1, max_length=4000)
    caller_name: Text = Field("", max_length=64)
    caller_phone: Text = Field("", max_length=32)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        text = unicodedata.normalize("NFC", value).strip()
        if not text:
            raise ValueError("describe the problem the caller reports")
        return text

    @field_validator("caller_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _plain_text(value, "caller_name")

    @field_validator("caller_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        phone = _plain_text(value, "caller_phone")
        if phone and not PHONE_PATTERN.match(phone):
            raise ValueError("caller_phone must be digits (with +, spaces, dashes, brackets): 027-88881234")
        return phone

    @model_validator(mode="after")
    def _some_contact(self) -> HotlineCaseIn:
        if not self.caller_name and not self.caller_phone:
            raise ValueError("give the caller's name or phone number (a call-back is part of 12345 handling)")
        return self


class DuplicateOut(BaseModel):
    """An open case of the same 小类 near the reported point: maybe the same problem."""

    id: int
    state: str
    description: str
    distance_m: float
    created_at: datetime
    lon: float
    lat: float


class DuplicatePage(BaseModel):
    category_code: str
    radius_m: float
    items: list[DuplicateOut]


class ContactOut(BaseModel):
    case_id: int
    name: str
    phone: str
    recorded_at: datetime


class MinorOut(BaseModel):
    code: str
    name: str
    photo_on_dispose: bool
    self_dispose: bool


class MajorOut(BaseModel):
    code: str
    name: str
    minors: list[MinorOut]


class KindOut(BaseModel):
    kind: str
    name: str
    majors: list[MajorOut]


class CategoryTree(BaseModel):
    """The city's case categories as 部件/事件 → 大类 → 小类 (for pickers, not code boxes)."""

    version: str
    title: str
    kinds: list[KindOut]
