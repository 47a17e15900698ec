(() => {
"use strict";
const T = ((all) => all[(document.documentElement.lang || '').toLowerCase().split(/[-_]/)[0]] || all["en"])({"en": {"copy": "Copy", "run": "Run", "copy_label": "Copy the command", "run_label": "Run the command in the terminal", "output_label": "Expected output", "wild": "varies with your environment", "wild_lines": "lines that vary with your environment", "copied": "Copied!", "copy_failed": "Could not copy: select the command and copy it by hand.", "run_fallback": "No terminal is connected: the command was copied. Paste it into your terminal and press Enter.", "busy": "Running…", "unset": "Value to fill in: {name}", "values_title": "Your values", "values_help": "Type your own values: the commands on every page use them.", "terminal": "Terminal", "terminal_close": "Close the terminal", "terminal_resize": "Resize the terminal (drag, or arrow keys)", "terminal_keys": "Shift+Tab: leave the terminal", "terminal_unreachable": "The terminal cannot be reached: the command was copied instead.", "missing": "Fill in {names} under “Your values” first; the command follows.", "no_host": "This terminal has no host {n}: the command was copied instead.", "stamp_verified": "Verified on {date} against {environment}.", "stamp_failed": "Verification failed on {date} against {environment}.", "stamp_unverified": "Not verified.", "stamp_changed": " The page changed after the check of {date}.", "stamp_nothing_ran": " No block could run on {date}.", "stamp_failures": " {count} block failed.| {count} blocks failed.", "stamp_ran": "{count} block ran;|{count} blocks ran;", "stamp_skipped": "{count} did not: {reasons}.|{count} did not: {reasons}.", "stamp_reason_requires": "{argument} is not installed", "stamp_reason_check": "{argument} failed", "stamp_reason_not_run": "{argument} is for a live terminal", "stamp_reason_earlier_failure": "an earlier block failed", "stamp_reason_setup_failed": "the page's setup failed", "stamp_reason_condition": "not for this environment ({argument})"}, "fr": {"copy": "Copier", "run": "Exécuter", "copy_label": "Copier la commande", "run_label": "Exécuter la commande dans le terminal", "output_label": "Sortie attendue", "wild": "varie selon votre environnement", "wild_lines": "des lignes qui varient selon votre environnement", "copied": "Copié !", "copy_failed": "Copie impossible : sélectionnez la commande et copiez-la à la main.", "run_fallback": "Aucun terminal n’est connecté : la commande a été copiée. Collez-la dans votre terminal, puis appuyez sur Entrée.", "busy": "Exécution en cours…", "unset": "Valeur à renseigner : {name}", "values_title": "Vos valeurs", "values_help": "Saisissez vos propres valeurs : les commandes de toutes les pages les utilisent.", "terminal": "Terminal", "terminal_close": "Fermer le terminal", "terminal_resize": "Redimensionner le terminal (glisser, ou flèches)", "terminal_keys": "Maj+Tab : quitter le terminal", "terminal_unreachable": "Le terminal est injoignable : la commande a été copiée à la place.", "missing": "Renseignez d’abord {names} dans « Vos valeurs » ; la commande suivra.", "no_host": "Ce terminal n’a pas d’hôte {n} : la commande a été copiée à la place.", "stamp_verified": "Vérifié le {date} sur {environment}.", "stamp_failed": "Échec de la vérification du {date} sur {environment}.", "stamp_unverified": "Non vérifié.", "stamp_changed": " La page a changé depuis la vérification du {date}.", "stamp_nothing_ran": " Aucun bloc n’a pu être exécuté le {date}.", "stamp_failures": " {count} bloc en échec.| {count} blocs en échec.", "stamp_ran": "{count} bloc exécuté ;|{count} blocs exécutés ;", "stamp_skipped": "{count} non exécuté : {reasons}.|{count} non exécutés : {reasons}.", "stamp_reason_requires": "{argument} n’est pas installé", "stamp_reason_check": "{argument} a échoué", "stamp_reason_not_run": "{argument} est réservé à un terminal interactif", "stamp_reason_earlier_failure": "un bloc précédent a échoué", "stamp_reason_setup_failed": "la préparation de la page a échoué", "stamp_reason_condition": "sans objet dans cet environnement ({argument})"}});
const TERM = null; // null, {url} (a remote terminal) or {config} (mkdocs serve's own)
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
}
};
const load = () => {
const values = read(localStorage, KEY);
for (const name of secrets) delete values[name]; // an old copy of a secret is not trusted nor shown
return Object.assign(values, read(sessionStorage, SECRET_KEY));
};
const fill = (bar) => {
const values = load();
const mine = (bar.dataset.mxVars || "").split(" ");
return (bar.dataset.mxCommand || "").replace(NAME, (all, name) =>
mine.includes(name) && name in values ? values[name] : all,
);
};
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
const once = (load) => {
let done = null;
return () =>
(done ||= load().catch((e) => {
done = null;
throw e;
}));
};
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
const missing = (bar) => {
const values = load();
return (bar.dataset.mxVars || "").split(" ").filter((n) => n && !(n in values));
};
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
