"""The pages under webmap/ run under a strict Content-Security-Policy (script-src 'self', style-src
'self'): no inline script, style block, style attribute, event-handler attribute or eval — in the
HTML files and in the markup the modules build. The field app's service worker precaches every
module the app imports, or the app cannot start offline. No module declares a top-level name twice
(an early SyntaxError that stops the whole page; a textual merge of two branches produced one)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gis_api.webmap import WEBMAP_DIR

PAGES = sorted(WEBMAP_DIR.glob("*.html"))
MODULES = [*sorted((WEBMAP_DIR / "js").glob("*.js")), WEBMAP_DIR / "field-sw.js"]
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
STYLE_BLOCK = re.compile(r"<style\b", re.I)
STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*["'`$]""", re.I)
HANDLER_ATTRIBUTE = re.compile(r"""\son[a-z]+\s*=\s*["'`$]""", re.I)
EVAL = re.compile(
    r"\beval\s*\(|\bnew\s+Function\s*\(|set(?:Timeout|Interval)\(\s*['\"`]|setAttribute\(\s*['\"](style|on[a-z]+)['\"]"
)
JAVASCRIPT_URL = re.compile(r"javascript:", re.I)
TOP_LEVEL = re.compile(
    r"^(?:export\s+)?(?:async\s+)?(?:function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)", re.M
)
IMPORT = re.compile(r"""(?:\bfrom\s+|^import\s+)'(\.{1,2}/[^']+)'""", re.M)


def test_the_pages_are_found() -> None:
    names = {page.name for page in PAGES}
    assert {"index.html", "screen.html", "planner.html", "field.html", "report.html", "survey.html"} <= names
    assert len(MODULES) > 30


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_html_has_no_inline_code_or_style(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    for attributes in SCRIPT_TAG.findall(html):
        assert "src=" in attributes, f"{page.name}: inline <script{attributes}>"
    assert not STYLE_BLOCK.search(html), f"{page.name}: a <style> block"
    assert not STYLE_ATTRIBUTE.search(html), f"{page.name}: a style attribute"
    assert not HANDLER_ATTRIBUTE.search(html), f"{page.name}: an inline event handler"
    assert not JAVASCRIPT_URL.search(html), f"{page.name}: a javascript: URL"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_modules_build_no_inline_style_handlers_or_eval(module: Path) -> None:
    code = module.read_text(encoding="utf-8")
    checks = ((STYLE_ATTRIBUTE, "style attribute"), (HANDLER_ATTRIBUTE, "event handler"), (EVAL, "eval"))
    for pattern, what in checks:
        found = pattern.search(code)
        context = code[max(0, found.start() - 40) : found.end() + 40] if found else ""
        assert found is None, f"{module.name}: {what} in {context!r}"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_no_top_level_name_is_declared_twice(module: Path) -> None:
    names = TOP_LEVEL.findall(module.read_text(encoding="utf-8"))
    twice = sorted({name for name in names if names.count(name) > 1})
    assert not twice, f"{module.name} declares {twice} more than once"


def test_the_checks_can_fail() -> None:
    assert TOP_LEVEL.findall(
        "export function addTexts(a) {}\nconst x = 1;\nexport function addTexts(b) {}"
    ) == [
        "addTexts",
        "x",
        "addTexts",
    ]
    assert STYLE_ATTRIBUTE.search('`<i style="background:${c}">`')
    assert HANDLER_ATTRIBUTE.search('<button onclick="go()">')
    assert EVAL.search("el.setAttribute('style', x)") and EVAL.search("eval(text)")
    assert EVAL.search("setTimeout('go()', 10)") and not EVAL.search("setTimeout(() => go(), 10)")
    assert not STYLE_ATTRIBUTE.search("swatch.style.background = colour")
    assert not HANDLER_ATTRIBUTE.search("image.onload = show")


def module_closure(entry: Path) -> set[str]:
    """Static-path (/static/js/...) of every module `entry` imports, directly or not, itself included."""
    seen: set[Path] = set()
    todo = [entry.resolve()]
    while todo:
        module = todo.pop()
        if module in seen or module.suffix != ".js":
            continue
        seen.add(module)
        imported = IMPORT.findall(module.read_text(encoding="utf-8"))
        todo += [(module.parent / found).resolve() for found in imported]
    return {"/static/" + module.relative_to(WEBMAP_DIR.resolve()).as_posix() for module in seen}


def test_field_service_worker_precaches_every_module_of_the_app() -> None:
    worker = (WEBMAP_DIR / "field-sw.js").read_text(encoding="utf-8")
    shell = set(re.findall(r"'(/[^']*)'", worker.split("const SHELL = [", 1)[1].split("];", 1)[0]))
    needed = module_closure(WEBMAP_DIR / "js" / "field.js")
    assert "/static/js/datums.js" in needed and "/static/vendor/leaflet-1.9.4/leaflet-src.esm.js" in needed
    missing = sorted(needed - shell)
    assert not missing, f"the field app imports modules its service worker does not cache: {missing}"
