"""GeoReport v2 documents in JSON and XML (UTF-8, with the XML declaration the spec requires)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree

from fastapi import Response

from gis_api.inputs import printable

FORMATS = ("json", "xml")
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def _text(value: Any) -> str:
    """The element text; characters XML 1.0 cannot carry are dropped (rows stored before input checks)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return printable(str(value))


def _append(parent: ElementTree.Element, name: str, value: Any) -> None:
    element = ElementTree.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list):
        singular = name[:-1] if name.endswith("s") else name
        for item in value:
            _append(element, singular, item)
    else:
        element.text = _text(value)


def xml_document(root: str, item: str, items: Sequence[Mapping[str, Any]]) -> bytes:
    """<root><item>...</item>...</root> with a UTF-8 declaration."""
    top = ElementTree.Element(root)
    for entry in items:
        _append(top, item, entry)
    return ElementTree.tostring(top, encoding="utf-8", xml_declaration=True)


Payload = Sequence[Mapping[str, Any]] | Mapping[str, Any]


def render(fmt: str, root: str, item: str, payload: Payload, status: int = 200) -> Response:
    """A JSON array/object or the equivalent XML document."""
    if fmt == "json":
        body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8", "replace")
    elif isinstance(payload, Mapping):
        element = ElementTree.Element(root)
        for key, value in payload.items():
            _append(element, key, value)
        body = ElementTree.tostring(element, encoding="utf-8", xml_declaration=True)
    else:
        body = xml_document(root, item, payload)
    return Response(body, status_code=status, media_type=MEDIA_TYPES.get(fmt, MEDIA_TYPES["json"]))


def errors(fmt: str, status: int, description: str) -> Response:
    """The spec's error list: [{"code": 400, "description": "..."}] or <errors><error>..."""
    return render(fmt, "errors", "error", [{"code": status, "description": description}], status)
