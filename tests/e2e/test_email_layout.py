"""The all-topics ICMPD email in headless Chromium: no sideways scrolling, every item visible.

A small script appended to the rendered HTML measures the layout at load and writes the
result as JSON into a hidden <pre id="layout-result">; Chromium's --dump-dom hands it back.
Needs /usr/bin/chromium (Debian: `apt-get install -y chromium`); skipped when it is absent.

Headless Chromium (new headless mode, Chromium 156) will not make a window narrower than
500 px, whatever --window-size says, and its innerHeight is the window height minus a
virtual toolbar. So the email is loaded into an <iframe> of exactly W x H in a small wrapper
page: the iframe is the viewport the email lays out in. The email's script writes its
result into its own <pre id="layout-result"> and posts it to the wrapper, which copies it
into the wrapper's <pre id="layout-result"> (--dump-dom dumps only the top document).
--hide-scrollbars makes scrollbars overlay the content, as on phones, so the layout width is
the full W.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tidings.digest.compose import compose
from tidings.digest.render import render_email
from tidings.feeds.parse import parse_feed
from tidings.feeds.topics import TopicRules
from tidings.matching import match
from tidings.model import ALL_TOPICS, Subscriber
from tidings.tokens import unsubscribe_url

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT = 60
ITEMS = 10  # the ICMPD fixture feed's items, all of them for an all-topics subscriber

SIZES = {"phone": (375, 800), "desktop": (1280, 900)}

MEASURE = """
<pre id="layout-result" style="display:none"></pre>
<script>
(function () {
  function measure() {
    var vw = window.innerWidth;
    var links = Array.prototype.slice.call(document.querySelectorAll("a.item-title"));
    var result = {
      innerWidth: vw,
      innerHeight: window.innerHeight,
      clientWidth: document.documentElement.clientWidth,
      scrollWidth: document.documentElement.scrollWidth,
      links: links.map(function (a) {
        var r = a.getBoundingClientRect();
        return {title: a.textContent, left: r.left, right: r.right,
                width: r.width, height: r.height};
      })
    };
    document.getElementById("layout-result").textContent = JSON.stringify(result);
    if (window.parent !== window) { window.parent.postMessage(result, "*"); }
  }
  if (document.readyState === "complete") { measure(); }
  else { window.addEventListener("load", measure); }
})();
</script>
"""

WRAPPER = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<style>html, body {{ margin: 0; padding: 0; }} iframe {{ border: 0; display: block; }}</style>
</head><body>
<pre id="layout-result" style="display:none"></pre>
<script>
window.addEventListener("message", function (event) {{
  document.getElementById("layout-result").textContent = JSON.stringify(event.data);
}});
</script>
<iframe src="{src}" width="{width}" height="{height}" title="digest"></iframe>
</body></html>
"""

RESULT = re.compile(r'<pre id="layout-result"[^>]*>(.*?)</pre>', re.DOTALL)


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: install it with `make browser`"
        if os.environ.get("TIDINGS_REQUIRE_BROWSER") == "1":  # CI: never skip silently
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def email_file(
    icmpd_bytes: bytes, rules: TopicRules, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The all-topics digest, as sent, plus the measuring script."""
    items = parse_feed(icmpd_bytes, feed_id="icmpd-news", rules=rules).items
    subscriber = Subscriber("layout", "email", "reader@example.org", topics=(ALL_TOPICS,))
    matched = match(items, {ALL_TOPICS: {"layout": subscriber}})
    digest = compose(subscriber, matched["layout"][1], rules.titles)
    link = unsubscribe_url("https://tidings.example.org", "layout", b"layout-key")
    markup = render_email(digest, unsubscribe_url=link).html
    assert markup.count("</body>") == 1
    path = tmp_path_factory.mktemp("layout") / "digest.html"
    path.write_text(markup.replace("</body>", MEASURE + "</body>"), "utf-8")
    return path


def run_chromium(chromium: Path, page: Path, size: tuple[int, int], *mode: str) -> str:
    profile = page.parent / f"profile-{size[0]}x{size[1]}"
    command = [
        str(chromium),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        "--virtual-time-budget=2000",
        "--hide-scrollbars",
        *mode,
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, f"chromium exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


def viewport(email: Path, size: tuple[int, int]) -> Path:
    """A page holding the email in an iframe of exactly `size`."""
    page = email.parent / f"viewport-{size[0]}x{size[1]}.html"
    html_text = WRAPPER.format(src=email.name, width=size[0], height=size[1])
    page.write_text(html_text, "utf-8")
    return page


def measure(chromium: Path, page: Path, size: tuple[int, int]) -> dict[str, Any]:
    dom = run_chromium(chromium, page, size, "--dump-dom")
    found = RESULT.search(dom)
    assert found and found.group(1).strip(), f"no layout result in the dumped DOM:\n{dom[-2000:]}"
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


@pytest.mark.parametrize("name", list(SIZES))
def test_email_fits_the_viewport_and_shows_every_item(
    chromium: Path, email_file: Path, name: str
) -> None:
    width, height = SIZES[name]
    page = viewport(email_file, (width, height))
    layout = measure(chromium, page, (width, height))

    assert (layout["innerWidth"], layout["innerHeight"]) == (width, height), layout
    visible = min(layout["innerWidth"], layout["clientWidth"])
    assert layout["scrollWidth"] <= visible, (
        f"{name}: horizontal overflow, scrollWidth {layout['scrollWidth']} "
        f"> innerWidth {layout['innerWidth']} / clientWidth {layout['clientWidth']}"
    )
    links = layout["links"]
    assert len(links) == ITEMS, [link["title"] for link in links]
    for link in links:
        assert link["width"] > 0 and link["height"] > 0, f"{name}: not rendered: {link}"
        assert link["left"] >= 0 and link["right"] <= visible, (
            f"{name}: title outside the viewport: {link}"
        )

    # One screenshot per width, kept in the tmp dir for a human to look at.
    shot = email_file.parent / f"{name}-{width}x{height}.png"
    run_chromium(chromium, page, (width, height), f"--screenshot={shot}")
    assert shot.stat().st_size > 0
