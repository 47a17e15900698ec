(() => {
"use strict";
window.mkdocsExecuteDrawer = ({ T, TERM, BASE, MARK, make, asset, once }) => {
const sessions = {};
let drawer = null;
let lastRun = null;
const loadXterm = once(() =>
Promise.all([
asset("link", { rel: "stylesheet", href: BASE + "vendor/xterm/css/xterm.css" }),
asset("script", { src: BASE + "vendor/xterm/lib/xterm.js" }),
]).then(() => asset("script", { src: BASE + "vendor/xterm/addon-fit/lib/addon-fit.js" })),
);
const endpoint = () =>
TERM.url
? Promise.resolve(TERM)
: fetch(BASE + TERM.config, { cache: "no-store" }).then((r) => (r.ok ? r.json() : Promise.reject(r.status)));
const select = (n) => {
for (const [k, s] of Object.entries(sessions)) {
s.tab.setAttribute("aria-selected", String(+k === n));
s.panel.hidden = +k !== n;
}
drawer.hidden = false;
document.body.classList.add("mx-drawer-open");
sessions[n]?.fit.fit();
};
const hide = () => {
drawer.hidden = true;
document.body.classList.remove("mx-drawer-open");
if (lastRun && lastRun.isConnected) lastRun.focus();
};
const HEIGHT = "mkdocs-execute:drawer-height";
const setHeight = (px) => {
const h = Math.round(Math.max(120, Math.min(px, window.innerHeight * 0.9)));
document.documentElement.style.setProperty("--mx-drawer-height", h + "px");
try {
localStorage.setItem(HEIGHT, String(h));
} catch (e) {
}
Object.values(sessions).forEach((s) => s.panel.hidden || s.fit.fit());
};
const grip = () => {
const el = make("div", "mx-drawer__grip");
Object.assign(el, { tabIndex: 0, title: T.terminal_resize });
el.setAttribute("role", "separator");
el.setAttribute("aria-orientation", "horizontal");
el.setAttribute("aria-label", T.terminal_resize);
el.addEventListener("pointerdown", (down) => {
el.setPointerCapture(down.pointerId);
const move = (e) => setHeight(window.innerHeight - e.clientY);
el.addEventListener("pointermove", move);
el.addEventListener("pointerup", () => el.removeEventListener("pointermove", move), { once: true });
});
el.addEventListener("keydown", (e) => {
if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
e.preventDefault();
setHeight(drawer.offsetHeight + (e.key === "ArrowUp" ? 40 : -40));
});
const saved = Number(localStorage.getItem(HEIGHT));
if (saved) document.documentElement.style.setProperty("--mx-drawer-height", saved + "px");
return el;
};
const makeDrawer = () => {
drawer = make("section", "mx-drawer");
drawer.setAttribute("aria-label", T.terminal);
drawer.hidden = true;
const bar = make("div", "mx-drawer__bar");
const tabs = make("div", "mx-drawer__tabs");
tabs.setAttribute("role", "tablist");
const close = make("button", "mx-button mx-drawer__close", "×");
Object.assign(close, { type: "button", title: T.terminal_close });
close.setAttribute("aria-label", T.terminal_close);
close.onclick = hide;
bar.append(tabs, make("span", "mx-drawer__hint", T.terminal_keys), close);
drawer.append(grip(), bar, make("div", "mx-drawer__panels"));
document.body.append(drawer);
window.addEventListener("resize", () => Object.values(sessions).forEach((s) => s.panel.hidden || s.fit.fit()));
};
const forget = (s, error) => {
s.closed = true;
for (const w of s.waiters.splice(0)) w.ko(error);
if (sessions[s.n] !== s) return;
delete sessions[s.n];
s.tab.remove();
s.panel.remove();
s.term.dispose();
const left = Object.keys(sessions);
if (left.length) select(+left[0]);
else hide();
};
const prompt = (s, ms) =>
new Promise((ok, ko) => {
const w = { ok, ko };
s.waiters.push(w);
const done = () => {
const i = s.waiters.indexOf(w);
if (i >= 0) s.waiters.splice(i, 1);
ok();
};
if (ms) setTimeout(done, ms);
if (!s.marker) {
const quiet = () => (Date.now() - s.last > 1000 ? done() : s.waiters.includes(w) && setTimeout(quiet, 250));
setTimeout(quiet, 250);
}
});
const connect = (n, where) => {
drawer || makeDrawer();
const tab = make("button", "mx-drawer__tab", `${T.terminal} ${n}`);
Object.assign(tab, { type: "button", id: `mx-tab-${n}` });
tab.setAttribute("role", "tab");
tab.setAttribute("aria-controls", `mx-term-${n}`);
tab.onclick = () => select(n);
const panel = make("div", "mx-drawer__panel");
Object.assign(panel, { id: `mx-term-${n}`, hidden: true });
panel.setAttribute("role", "tabpanel");
panel.setAttribute("aria-labelledby", tab.id);
const tabs = drawer.querySelector(".mx-drawer__tabs");
const after = [...tabs.children].find((t) => +t.id.slice(7) > n);
tabs.insertBefore(tab, after || null);
drawer.querySelector(".mx-drawer__panels").append(panel);
const term = new window.Terminal({ fontSize: 13, fontFamily: "SFMono-Regular, Consolas, Menlo, monospace" });
const fit = new window.FitAddon.FitAddon();
term.loadAddon(fit);
const s = { n, tab, panel, term, fit, waiters: [], marker: false, last: Date.now() };
sessions[n] = s;
select(n);
term.open(panel);
fit.fit();
term.attachCustomKeyEventHandler((e) => {
if (e.key !== "Tab" || !e.shiftKey) return true;
if (e.type === "keydown") tab.focus();
e.preventDefault();
return false;
});
const url = where.url + (where.token ? (where.url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(where.token) : "");
const ws = (s.ws = new WebSocket(url));
ws.binaryType = "arraybuffer";
const send = (msg) => ws.readyState === 1 && ws.send(JSON.stringify(msg));
s.input = (data) => send({ type: "input", data });
term.onData(s.input);
term.onResize(({ cols, rows }) => send({ type: "resize", cols, rows }));
term.parser.registerOscHandler(MARK, () => {
s.marker = true;
s.waiters.shift()?.ok();
return true;
});
s.ready = new Promise((ok, ko) => {
s.waiters.push({ ok, ko });
ws.onopen = () => send({ type: "resize", cols: term.cols, rows: term.rows });
ws.onclose = () => forget(s, new Error("terminal closed"));
ws.onmessage = ({ data }) => {
s.last = Date.now();
if (typeof data !== "string") return term.write(new Uint8Array(data));
const hello = JSON.parse(data);
if (hello.type === "hello" && !hello.marker) prompt(s).then(ok, ko); // no marker: wait for quiet
};
});
return s;
};
const session = (n) =>
sessions[n] && !sessions[n].closed ? sessions[n] : loadXterm().then(endpoint).then((where) => connect(n, where));
const control = (text) =>
text.trim().replace(/\^([@A-Za-z\[\\\]^_?])/g, (all, key) =>
key === "?" ? "\x7f" : String.fromCharCode(key.toUpperCase().charCodeAt(0) & 0x1f),
);
return {
async send(command, o) {
lastRun = o.element?.querySelector('[data-mx-action="run"]') || lastRun;
if (o.host && o.host > 1) {
throw Object.assign(new Error("no such host"), { mxReason: T.no_host.replace("{n}", o.host) });
}
const s = await session(o.terminal);
select(o.terminal);
await s.ready;
if (!s.used) await new Promise((ok) => setTimeout(ok, 150)); // let bash draw its first prompt
s.used = true;
if (o.interrupt) {
s.input("\x03");
await prompt(s, 1000); // the prompt Ctrl-C brings back, or give up waiting after a second
}
if (o.ctrlSeq) {
s.input(control(command)); // ^C, ^D, ^Z, ^L, ^[…: the keys, not their spelling
return;
}
s.term.paste(command); // bracketed paste: a multi-line command runs as one, with one prompt after it
if (o.noNewline) return;
s.input("\r");
await prompt(s, o.timeout ? o.timeout * 1000 : 0);
},
screen(n = 1) {
const b = sessions[n]?.term.buffer.active;
const lines = [];
for (let i = 0; b && i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
return lines.join("\n");
},
sessions,
};
};
})();
