(() => {
if (window.mkdocsExecuteLoader) return;
window.mkdocsExecuteLoader = true;
const base = (document.currentScript?.src || "").replace(/[^/]*$/, "");
let asked = !!document.querySelector("script[data-mx-execute]"); // this page runs its own
const check = () => {
if (asked || window.mkdocsExecute?.ready) return;
if (!document.querySelector("[data-mx-kind],[data-mx-var],[data-mx-vars]")) return;
asked = true;
const add = (tag, attrs) => document.head.append(Object.assign(document.createElement(tag), attrs));
if (!document.querySelector('link[href$="execute.css"]')) add("link", { rel: "stylesheet", href: base + "execute.css" });
add("script", { src: base + "execute.js" });
};
if (window.document$?.subscribe) window.document$.subscribe(check);
else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", check);
else check();
})();
