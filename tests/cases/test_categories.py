"""The shipped category file and the validation of a city's replacement file."""

from pathlib import Path

import numpy as np
import pytest

from gis_api.cases.categories import (
    Kind,
    Stage,
    default_catalog,
    load_categories,
)
from gis_api.cases.settings import CaseSettings
from gis_api.errors import InvalidInputError, LoadError
from gis_api.teams.models import MemberRole

MINIMAL = """
version = "test-1"
[stage_hours]
accept = 1
register = 1
dispatch = 1
dispose = 4
verify = 1
close = 1
[[major]]
kind = "event"
code = "02"
name = "宣传广告"
roles = ["grid_worker"]
minors = [{ code = "01", name = "非法小广告", weight = 3, stage_hours = { dispose = 2 } }]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "categories.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_has_six_event_and_six_component_majors() -> None:
    catalog = default_catalog()
    majors = {(c.kind, c.major_code, c.major_name) for c in catalog.categories.values()}
    events = sorted(code for kind, code, _ in majors if kind is Kind.EVENT)
    components = sorted(code for kind, code, _ in majors if kind is Kind.COMPONENT)
    assert events == components == ["01", "02", "03", "04", "05", "06"]
    assert (Kind.EVENT, "01", "市容环境") in majors
    assert (Kind.COMPONENT, "06", "其他设施") in majors


def test_default_codes_stage_hours_and_roles() -> None:
    catalog = default_catalog()
    ads = catalog.get("E0201")
    assert ads.name == "非法小广告" and ads.full_name == "事件/宣传广告/非法小广告"
    assert ads.stage_hours[Stage.DISPOSE] == 4
    assert ads.stage_hours[Stage.ACCEPT] == 0.5  # file-wide default
    assert ads.self_dispose
    gas = catalog.get("E0403")
    assert gas.roles == {MemberRole.STREET_CADRE, MemberRole.SINKING_CADRE}
    assert gas.stage_hours[Stage.DISPATCH] == 0.25  # major-level override
    assert all(set(c.stage_hours) == set(Stage) for c in catalog.categories.values())


def test_litter_and_ads_most_common_hazards_rare() -> None:
    catalog = default_catalog()
    ranked = sorted(catalog.categories.values(), key=lambda c: -c.weight)
    assert {ranked[0].code, ranked[1].code} == {"E0102", "E0201"}
    drawn = catalog.sample(np.random.default_rng(1), 20_000)
    assert drawn.count("E0201") > 20 * max(drawn.count("E0403"), 1)
    assert drawn == catalog.sample(np.random.default_rng(1), 20_000)


def test_unknown_category_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="unknown category 'X9999'"):
        default_catalog().get("X9999")


def test_city_file_replaces_default_via_env(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path, MINIMAL)
    monkeypatch.setenv("WANGGE_CATEGORIES_FILE", str(path))
    assert CaseSettings().categories_file == path
    catalog = load_categories(CaseSettings().categories_file)
    assert catalog.version == "test-1" and list(catalog.categories) == ["E0201"]
    assert catalog.get("E0201").stage_hours[Stage.DISPOSE] == 2


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('code = "02"', 'code = "2"', "major code must be two digits"),
        ('"grid_worker"]', '"wizard"]', "'wizard' is not a valid MemberRole"),
        ("dispose = 2 }", "dispose = -1 }", "dispose hours must be > 0"),
        ("dispose = 2 }", "disposal = 2 }", "unknown stage 'disposal'"),
        ("close = 1\n", "", "stage_hours lacks close"),
        ('kind = "event"', 'kind = "thing"', "'thing' is not a valid Kind"),
        ('version = "test-1"', "", "missing key 'version'"),
        ("weight = 3", "weight = -3", "weight must be >= 0"),
        ("[[major]]", "[workflow]\nmax_extensionz = 1\n[[major]]", "max_extensionz"),
        ("minors = [", "minors = [ {", "categories.toml"),
    ],
)
def test_bad_file_is_rejected_with_reason(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in MINIMAL
    with pytest.raises(LoadError, match=message):
        load_categories(write(tmp_path, MINIMAL.replace(old, new, 1)))


def test_duplicate_code_rejected(tmp_path: Path) -> None:
    doubled = MINIMAL.replace("weight = 3,", 'weight = 3 }, { code = "01", name = "x",')
    with pytest.raises(LoadError, match="duplicate category code E0201"):
        load_categories(write(tmp_path, doubled))


def test_missing_file_named(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"nowhere\.toml"):
        load_categories(tmp_path / "nowhere.toml")
