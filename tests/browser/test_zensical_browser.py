"""The Zensical example in real Chromium: the script loads without error and Copy works."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mkdocs_execute.strings import strings_for

if TYPE_CHECKING:
    from conftest import Tab

FR = strings_for("fr")
EXECUTE = '[data-mx-kind="execute"]'


@pytest.mark.browser
def test_copy_works_on_a_zensical_site(zensical_tab: Tab) -> None:
    page = zensical_tab.page
    zensical_tab.set_clipboard("sentinel")
    assert zensical_tab.clipboard() == "sentinel"  # control: the clipboard is read back
    page.click(f"{EXECUTE} .mx-copy")
    page.wait_for_function(
        "text => document.querySelector('[data-mx-kind=\"execute\"] .mx-status').textContent === text", arg=FR["copied"]
    )
    assert zensical_tab.clipboard() == "docker images"
    assert zensical_tab.errors == []  # no ReferenceError: the shipped script is ready, not a template
    zensical_tab.screenshot("zensical-copy")
