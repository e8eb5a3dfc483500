"""The pages' Content-Security-Policy holds in a real browser: markup that carries its own style
(what an injected description or name would try) is refused, while the styles our modules and
Leaflet set through the DOM (element.style) still apply, and the command page works under it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.conftest import LiveApp, Watched, log_in

pytestmark = pytest.mark.browser
PROBE = """() => {
  document.body.insertAdjacentHTML('beforeend',
    '<div id="wg-probe-markup" style="position:absolute;width:123px;height:5px"></div>');
  const probe = document.createElement('div');
  probe.id = 'wg-probe-dom';
  probe.style.position = 'absolute';
  probe.style.width = '77px';
  document.body.append(probe);
  const width = (element) => element.getBoundingClientRect().width;
  return [width(document.getElementById('wg-probe-markup')), width(probe)];
}"""


def test_inline_style_markup_is_refused_and_dom_styles_apply(
    live_app: LiveApp, open_page: Callable[..., Watched]
) -> None:
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "admin")
    assert watched.page.locator(".leaflet-tile-pane").count() == 1  # the map laid out by Leaflet's DOM styles
    markup_width, dom_width = watched.page.evaluate(PROBE)
    assert dom_width == 77
    assert markup_width != 123
    refused = [error for error in watched.errors if "Content Security Policy" in error and "style" in error]
    assert refused, f"no refusal was reported: {watched.errors}"
    watched.errors[:] = [error for error in watched.errors if error not in refused]
