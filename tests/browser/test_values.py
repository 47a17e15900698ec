"""The reader's values in real Chromium: labels and help, a secret typed unseen and kept out of localStorage,
and Copy or Run of a command with a value still to fill in asks for it, then does what was asked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mkdocs_execute.strings import strings_for

if TYPE_CHECKING:
    from conftest import Tab

FR = strings_for("fr")
RUN = '[data-mx-kind="execute"]'
COPY = '[data-mx-kind="copy"]'


@pytest.mark.browser
def test_fields_have_labels_help_and_a_password_for_a_secret(values_tab: Tab) -> None:
    page = values_tab.page
    labels = page.locator(".mx-values .mx-values__label").all_inner_texts()
    assert labels == ["OPENSHIFT_TOKEN", "Adresse IP du cluster"]
    assert page.get_attribute('[data-mx-input="OPENSHIFT_TOKEN"]', "type") == "password"
    assert page.get_attribute('[data-mx-input="HOST_IP"]', "type") == "text"  # negative: a plain value is shown
    helped = page.get_attribute('[data-mx-input="HOST_IP"]', "aria-describedby")
    assert helped and page.inner_text(f"#{helped}") == "Celle que la console affiche"


@pytest.mark.browser
def test_a_secret_is_kept_in_this_tab_only(values_tab: Tab) -> None:
    page = values_tab.page
    page.fill('[data-mx-input="OPENSHIFT_TOKEN"]', "sha256~secret")
    page.fill('[data-mx-input="HOST_IP"]', "10.9.8.7")
    stored = page.evaluate("JSON.stringify(localStorage)")
    assert "sha256~secret" not in stored and "10.9.8.7" in stored  # the plain value is kept, the secret is not
    assert "sha256~secret" in page.evaluate("JSON.stringify(sessionStorage)")
    assert page.evaluate("window.mkdocsExecute.values()") == {"OPENSHIFT_TOKEN": "sha256~secret", "HOST_IP": "10.9.8.7"}


@pytest.mark.browser
def test_copy_with_a_value_to_fill_asks_for_it_then_copies(values_tab: Tab) -> None:
    page = values_tab.page
    values_tab.set_clipboard("before")
    page.click(f"{COPY} .mx-copy")
    message = FR["missing"].format(names="Adresse IP du cluster")
    page.wait_for_function(
        "([s, t]) => document.querySelector(s + ' .mx-status').textContent === t", arg=[COPY, message]
    )
    assert values_tab.clipboard() == "before"  # nothing handed out with `[[HOST_IP]]` in it
    assert page.evaluate("document.querySelector('.mx-values').open") is True
    assert page.evaluate("document.activeElement.dataset.mxInput") == "HOST_IP"  # the first empty field
    page.keyboard.type("10.1.1.1")
    page.keyboard.press("Enter")  # the value is given: what was asked happens now
    page.wait_for_function("navigator.clipboard.readText().then(t => t === 'ping -c 1 10.1.1.1')")
    assert values_tab.errors == []


@pytest.mark.browser
def test_run_without_a_terminal_shows_no_success_mark(values_tab: Tab) -> None:
    page = values_tab.page
    page.fill('[data-mx-input="OPENSHIFT_TOKEN"]', "t")
    page.fill('[data-mx-input="HOST_IP"]', "h")
    page.click(f"{RUN} .mx-run")
    page.wait_for_function("navigator.clipboard.readText().then(t => t.startsWith('oc login'))")
    classes = str(page.get_attribute(f"{RUN} .mx-run", "class"))
    assert "mx-done" not in classes and "mx-copied" in classes  # copied, but nothing ran
