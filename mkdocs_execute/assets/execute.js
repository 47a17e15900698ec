/* mkdocs-execute: Copy and Run buttons for marked command blocks, reader-filled values, and a
 * terminal drawer (xterm.js, loaded on first Run only). One delegated click listener; per-page work
 * runs on Material's document$ (instant navigation). */
(() => {
  "use strict";
  const T = __MX_STRINGS__;
  const TERM = __MX_TERMINAL__; // null, {url} (a remote terminal) or {config} (mkdocs serve's own)
  const BASE = (document.currentScript?.src || "").replace(/[^/]*$/, "");
  const MARK = 6973; // OSC number the terminal server's bash prints with each prompt
  const KEY = "mkdocs-execute:values"; // localStorage: what a reader keeps from visit to visit
  const SECRET_KEY = "mkdocs-execute:secrets"; // sessionStorage: secret values end with the tab
  const NAME = /\[\[([A-Z][A-Z0-9_]*)\]\]/g;
  const prior = window.mkdocsExecute || {};
  if (prior.ready) return; // the script ran already (e.g. re-inserted by instant navigation)

  const secrets = new Set(); // names the page marks secret (data-mx-secret): never written to localStorage
  const read = (storage, key) => {
    let stored = null;
    try {
      stored = JSON.parse(storage.getItem(key) || "{}");
    } catch (e) {
      stored = null;
    }
    const values = {};
    if (stored && typeof stored === "object" && !Array.isArray(stored)) {
      for (const name of Object.keys(stored)) if (typeof stored[name] === "string") values[name] = stored[name];
    }
    return values;
  };
  const store = (storage, key, values) => {
    try {
      storage.setItem(key, JSON.stringify(values));
    } catch (e) {
      /* storage unavailable: the value lasts for this page only */
    }
  };
  const load = () => {
    const values = read(localStorage, KEY);
    for (const name of secrets) delete values[name]; // an old copy of a secret is not trusted nor shown
    return Object.assign(values, read(sessionStorage, SECRET_KEY));
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
    for (const el of (root || document).querySelectorAll("[data-mx-secret]")) secrets.add(el.dataset.mxVar);
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

  const make = (tag, cls, text) => {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text != null) el.textContent = text;
    return el;
  };

  /* The reader's values panel, at the top of the page content: one input per placeholder to fill. */
  const panel = () => {
    const article = document.querySelector("article.md-content__inner") || document.querySelector("article");
    if (!article) return;
    article.querySelector(":scope > .mx-values")?.remove();
    const names = new Set();
    for (const el of article.querySelectorAll("[data-mx-var], [data-mx-vars]")) {
      if (el.dataset.mxFill) names.add(el.dataset.mxVar);
      for (const n of (el.dataset.mxVars || "").split(" ")) if (n) names.add(n);
    }
    const about = (name) => document.querySelector(`[data-mx-var="${name}"].mx-var--unset, [data-mx-var="${name}"][data-mx-label]`);
    if (!names.size) return;
    const values = load();
    const box = make("details", "mx-values");
    box.setAttribute("data-search-exclude", "");
    box.open = [...names].some((n) => !(n in values));
    box.append(make("summary", "", T.values_title), make("p", "", T.values_help));
    for (const name of names) {
      const d = about(name)?.dataset || {};
      const label = make("label", "mx-values__item");
      const input = make("input");
      const type = "mxSecret" in d ? "password" : "text"; // a secret is typed unseen, kept in this tab only
      Object.assign(input, { type, name, value: values[name] || "", spellcheck: false, autocomplete: "off" });
      input.dataset.mxInput = name;
      label.append(make("span", "mx-values__label", d.mxLabel || name), input);
      if (d.mxHelp) {
        const help = make("span", "mx-values__help", d.mxHelp);
        help.id = "mx-help-" + name;
        input.setAttribute("aria-describedby", help.id);
        label.append(help);
      }
      box.append(label);
    }
    const title = article.querySelector(":scope > h1");
    if (title) title.after(box);
    else article.prepend(box);
  };

  /* Label expected output. */
  const decorate = (root) => {
    for (const box of (root || document).querySelectorAll('[data-mx-kind="output"]')) {
      box.setAttribute("data-mx-ui-label", T.output_label);
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

  const copyFrom = (button, bar, command, message, ms, mark = "mx-done") =>
    copy(command).then(
      () => {
        say(bar, message, ms);
        flag(button, mark);
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
      return copyFrom(button, bar, command, T.run_fallback, 6000, "mx-copied"); // nothing ran: no success mark
    }
    if (box.classList.contains("mx-busy")) return;
    const d = box.dataset;
    const options = {
      terminal: Number(d.mxTerminal) || 1,
      interrupt: "mxInterrupt" in d,
      noNewline: "mxNoNewline" in d,
      ctrlSeq: "mxCtrlSeq" in d,
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
        (error) => copyFrom(button, bar, command, error?.mxReason || T.terminal_unreachable, 6000, "mx-copied"),
      )
      .finally(() => busy(box, false));
  };

  const asset = (tag, attrs) =>
    new Promise((ok, ko) => {
      const el = Object.assign(document.createElement(tag), attrs, { onload: ok });
      el.onerror = () => ko(new Error("cannot load " + (attrs.src || attrs.href)));
      document.head.append(el);
    });
  /* `load` once; a failed load is tried again the next time. */
  const once = (load) => {
    let done = null;
    return () =>
      (done ||= load().catch((e) => {
        done = null;
        throw e;
      }));
  };
  /* The drawer (terminal.js and terminal.css) comes on the first Run; until then Run only needs this. */
  let real = null;
  const loadDrawer = once(() =>
    Promise.all([
      asset("link", { rel: "stylesheet", href: BASE + "terminal.css" }),
      asset("script", { src: BASE + "terminal.js" }),
    ]).then(() => (real = window.mkdocsExecuteDrawer({ T, TERM, BASE, MARK, make, asset, once }))),
  );
  const terminal = TERM && {
    send: (command, o) => loadDrawer().then((t) => t.send(command, o)),
    screen: (n) => (real ? real.screen(n) : ""),
    get sessions() {
      return real ? real.sessions : {};
    },
  };

  const api = Object.assign(prior, {
    ready: true,
    strings: T,
    terminal: prior.terminal || terminal || null,
    values: load,
    setValue(name, value) {
      const secret = secrets.has(name);
      const kept = read(localStorage, KEY);
      const session = read(sessionStorage, SECRET_KEY);
      delete kept[name];
      delete session[name];
      if (value != null && value !== "") (secret ? session : kept)[name] = String(value);
      store(localStorage, KEY, kept);
      store(sessionStorage, SECRET_KEY, session);
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
      panel();
    },
  });
  window.mkdocsExecute = api;

  /* The names a command still needs from the reader. */
  const missing = (bar) => {
    const values = load();
    return (bar.dataset.mxVars || "").split(" ").filter((n) => n && !(n in values));
  };

  /* Copy or Run with a value still to fill in: ask for it, then do what was asked once it is given. */
  let pending = null;
  const ask = (button, box, bar, names) => {
    pending = { button, box, bar };
    panel();
    const values = document.querySelector(".mx-values");
    if (values) values.open = true;
    const labels = names.map((n) => document.querySelector(`[data-mx-input="${n}"]`)?.previousElementSibling?.textContent || n);
    say(bar, T.missing.replace("{names}", labels.join(", ")), 0);
    document.querySelector(`[data-mx-input="${names[0]}"]`)?.focus();
  };
  const later = () => {
    if (!pending || missing(pending.bar).length) return;
    const { button, box, bar } = pending;
    pending = null;
    act(button, box, bar);
  };

  const act = (button, box, bar) => {
    const names = missing(bar);
    if (names.length) return ask(button, box, bar, names);
    const command = fill(bar);
    if (button.dataset.mxAction === "run") run(button, box, bar, command);
    else copyFrom(button, bar, command, T.copied, 2000);
  };

  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element && event.target.closest("[data-mx-action]");
    const bar = button && button.closest(".mx-toolbar");
    const box = bar && bar.closest("[data-mx-kind]");
    if (!box) return;
    event.preventDefault();
    act(button, box, bar);
  });
  document.addEventListener("input", (event) => {
    const name = event.target.dataset?.mxInput;
    if (name) api.setValue(name, event.target.value);
  });
  document.addEventListener("change", (event) => {
    if (event.target.dataset?.mxInput) later(); // a field left, or Enter: what waited for it runs now
  });
  window.addEventListener("storage", (event) => {
    if (event.key !== KEY && event.key !== null) return;
    apply(document);
    const values = load();
    for (const input of document.querySelectorAll("[data-mx-input]")) {
      if (input !== document.activeElement) input.value = values[input.dataset.mxInput] || "";
    }
  });

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(api.refresh);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", api.refresh);
  } else {
    api.refresh();
  }
})();
