/* mkdocs-execute: Copy and Run buttons for marked command blocks, and reader-filled values.
 * One delegated click listener; per-page work runs on Material's document$ (instant navigation). */
(() => {
  "use strict";
  const T = __MX_STRINGS__;
  const KEY = "mkdocs-execute:values";
  const NAME = /\[\[([A-Z][A-Z0-9_]*)\]\]/g;
  const prior = window.mkdocsExecute || {};
  if (prior.ready) return; // the script ran already (e.g. re-inserted by instant navigation)

  const load = () => {
    let stored = null;
    try {
      stored = JSON.parse(localStorage.getItem(KEY) || "{}");
    } catch (e) {
      stored = null;
    }
    const values = {};
    if (stored && typeof stored === "object" && !Array.isArray(stored)) {
      for (const name of Object.keys(stored)) if (typeof stored[name] === "string") values[name] = stored[name];
    }
    return values;
  };

  /* The command to copy or run: `[[NAME]]` left by the build gets the reader's value, if any. */
  /* Only the names the build lists in data-mx-vars are the reader's: an escaped [[X]] stays literal. */
  const fill = (bar) => {
    const values = load();
    const mine = (bar.dataset.mxVars || "").split(" ");
    return (bar.dataset.mxCommand || "").replace(NAME, (all, name) =>
      mine.includes(name) && name in values ? values[name] : all,
    );
  };

  /* Show the reader's values in every placeholder the build left for them (as text only). */
  const apply = (root) => {
    const values = load();
    for (const el of (root || document).querySelectorAll("[data-mx-var]")) {
      const d = el.dataset;
      if (d.mxFill == null) d.mxFill = el.classList.contains("mx-var--unset") ? "1" : "";
      if (!d.mxFill) continue; // a configured value: the build already put it everywhere
      const known = d.mxVar in values;
      const text = known ? values[d.mxVar] : d.mxVar;
      if (el.textContent !== text) el.textContent = text;
      el.classList.toggle("mx-var--unset", !known);
    }
  };

  /* Label expected output; keep a block title readable by reserving the toolbar's width in it. */
  const decorate = (root) => {
    for (const box of (root || document).querySelectorAll('[data-mx-kind="output"]')) {
      box.setAttribute("data-mx-ui-label", T.output_label);
    }
    for (const bar of (root || document).querySelectorAll("[data-mx-kind] > .mx-toolbar")) {
      const box = bar.parentElement;
      if (box.querySelector(".filename") && bar.offsetWidth) {
        box.style.setProperty("--mx-tw", bar.offsetWidth + "px");
      }
    }
  };

  const copy = async (text) => {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch (e) {
      /* no async clipboard (plain http, old browser, denied): try the legacy way */
    }
    const focused = document.activeElement;
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.setAttribute("aria-hidden", "true");
    area.style.cssText = "position:fixed;top:0;left:0;opacity:0;pointer-events:none";
    document.body.appendChild(area);
    area.select();
    let done = false;
    try {
      done = document.execCommand("copy");
    } finally {
      area.remove();
      if (focused && focused.focus) focused.focus({ preventScroll: true });
    }
    if (!done) throw new Error("copy refused");
  };

  const say = (bar, text, ms) => {
    const status = bar.querySelector(".mx-status");
    if (!status) return;
    clearTimeout(status.mxTimer);
    status.textContent = text;
    if (ms && text) status.mxTimer = setTimeout(() => (status.textContent = ""), ms);
  };

  const flag = (button, name) => {
    clearTimeout(button.mxTimer);
    button.classList.remove("mx-done", "mx-failed");
    button.classList.add(name);
    button.mxTimer = setTimeout(() => button.classList.remove(name), 2000);
  };

  const copyFrom = (button, bar, command, message, ms) =>
    copy(command).then(
      () => {
        say(bar, message, ms);
        flag(button, "mx-done");
      },
      () => {
        say(bar, T.copy_failed, 6000);
        flag(button, "mx-failed");
      },
    );

  const busy = (box, on) => {
    box.classList.toggle("mx-busy", on);
    if (on) box.setAttribute("aria-busy", "true");
    else box.removeAttribute("aria-busy");
  };

  const run = (button, box, bar, command) => {
    const terminal = api.terminal;
    if (!terminal || typeof terminal.send !== "function") {
      return copyFrom(button, bar, command, T.run_fallback, 6000);
    }
    if (box.classList.contains("mx-busy")) return;
    const d = box.dataset;
    const options = {
      terminal: Number(d.mxTerminal) || 1,
      interrupt: "mxInterrupt" in d,
      noNewline: "mxNoNewline" in d,
      host: d.mxHost ? Number(d.mxHost) : undefined,
      timeout: d.mxTimeout ? Number(d.mxTimeout) : undefined,
      source: d.mxSource,
      element: box,
    };
    busy(box, true);
    say(bar, T.busy);
    return Promise.resolve()
      .then(() => terminal.send(command, options))
      .then(
        () => say(bar, ""),
        () => copyFrom(button, bar, command, T.terminal_unreachable, 6000),
      )
      .finally(() => busy(box, false));
  };

  const api = Object.assign(prior, {
    ready: true,
    strings: T,
    terminal: prior.terminal || null,
    values: load,
    setValue(name, value) {
      const values = load();
      if (value == null || value === "") delete values[name];
      else values[name] = String(value);
      try {
        localStorage.setItem(KEY, JSON.stringify(values));
      } catch (e) {
        /* storage unavailable: the value lasts for this page only */
      }
      apply(document);
    },
    command: (el) => {
      const bar = el.closest("[data-mx-kind]")?.querySelector(".mx-toolbar");
      return bar ? fill(bar) : null;
    },
    copy,
    refresh: () => {
      apply(document);
      decorate(document);
    },
  });
  window.mkdocsExecute = api;

  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element && event.target.closest("[data-mx-action]");
    const bar = button && button.closest(".mx-toolbar");
    const box = bar && bar.closest("[data-mx-kind]");
    if (!box) return;
    event.preventDefault();
    const command = fill(bar);
    if (button.dataset.mxAction === "run") run(button, box, bar, command);
    else copyFrom(button, bar, command, T.copied, 2000);
  });
  window.addEventListener("storage", (event) => {
    if (event.key === KEY || event.key === null) apply(document);
  });

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(api.refresh);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", api.refresh);
  } else {
    api.refresh();
  }
})();
