"""A minimal Mapbox Vector Tile reader for tests: layers, feature ids, properties, geometry type."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

GEOMETRY_TYPES = {0: "Unknown", 1: "Point", 2: "LineString", 3: "Polygon"}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, Any]]:
    """(field number, value) pairs; length-delimited values as bytes, varints as int."""
    pos, fields = 0, []
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            size, pos = _varint(data, pos)
            value, pos = data[pos : pos + size], pos + size
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        fields.append((number, value))
    return fields


def _packed(data: bytes) -> list[int]:
    values, pos = [], 0
    while pos < len(data):
        value, pos = _varint(data, pos)
        values.append(value)
    return values


def _value(data: bytes) -> Any:
    number, raw = _fields(data)[0]
    if number == 1:
        return raw.decode()
    if number == 2:
        return struct.unpack("<f", raw)[0]
    if number == 3:
        return struct.unpack("<d", raw)[0]
    if number in (4, 5):
        return raw - (1 << 64) if number == 4 and raw >= 1 << 63 else raw
    if number == 6:
        return (raw >> 1) ^ -(raw & 1)
    return bool(raw)


@dataclass
class Feature:
    id: int | None
    geometry_type: str
    properties: dict[str, Any]
    points: list[tuple[int, int]]

    @property
    def first_point(self) -> tuple[int, int]:
        return self.points[0]


@dataclass
class Layer:
    name: str
    extent: int = 4096
    features: list[Feature] = field(default_factory=list)


def _zigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def _points(commands: list[int]) -> list[tuple[int, int]]:
    """Every vertex of a geometry command stream (MoveTo/LineTo parameters, ClosePath skipped)."""
    points, x, y, pos = [], 0, 0, 0
    while pos < len(commands):
        command, count = commands[pos] & 7, commands[pos] >> 3
        pos += 1
        if command == 7:
            continue
        for _ in range(count):
            x, y = x + _zigzag(commands[pos]), y + _zigzag(commands[pos + 1])
            points.append((x, y))
            pos += 2
    return points


def _layer(data: bytes) -> Layer:
    fields = _fields(data)
    keys = [value.decode() for number, value in fields if number == 3]
    values = [_value(value) for number, value in fields if number == 4]
    layer = Layer(name=next(value.decode() for number, value in fields if number == 1))
    layer.extent = next((value for number, value in fields if number == 5), 4096)
    for number, raw in fields:
        if number != 2:
            continue
        parts = dict(_fields(raw))
        tags = _packed(parts.get(2, b""))
        properties = {keys[tags[i]]: values[tags[i + 1]] for i in range(0, len(tags), 2)}
        commands = _packed(parts[4])
        layer.features.append(
            Feature(parts.get(1), GEOMETRY_TYPES[parts.get(3, 0)], properties, _points(commands))
        )
    return layer


def decode(tile: bytes) -> dict[str, Layer]:
    """Layers of a tile by name."""
    return {layer.name: layer for layer in (_layer(raw) for number, raw in _fields(tile) if number == 3)}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """XYZ tile holding a WGS84 point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def lon_lat(z: int, x: int, y: int, point: tuple[int, int], extent: int = 4096) -> tuple[float, float]:
    """WGS84 position of tile coordinates inside tile z/x/y."""
    n = 2**z
    lon = (x + point[0] / extent) / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + point[1] / extent) / n))))
    return lon, lat
