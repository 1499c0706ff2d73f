// Building the page with DOM calls only: every value is set as text or an attribute, never
// parsed as HTML, so a PR title or a finding cannot become markup.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function replace(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

// An internal link: navigation without reloading the page.
export function link(href, ...children) {
  return h("a", { href, "data-internal": "true" }, ...children);
}

// A table with a caption and header cells scoped to their columns. `columns` are
// { title, cell(row) -> node|text, numeric? }.
export function table(columns, rows, { caption, empty = "Nothing yet." } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : null }, c.title)))),
      h(
        "tbody",
        {},
        rows.map((row) => h("tr", {}, columns.map((c) => h("td", { class: c.numeric ? "num" : null }, c.cell(row))))),
      ),
    ),
  );
}

export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(Boolean).map(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "—")]));
}

export function badge(text, kind = text) {
  return h("span", { class: `badge ${kind}` }, text);
}

export function announce(message) {
  const status = document.getElementById("status");
  status.textContent = "";
  // A new text node so screen readers announce the same message twice in a row too.
  setTimeout(() => { status.textContent = message; }, 30);
}

export function when(iso) {
  if (!iso) return "—";
  const moment = new Date(iso);
  return h("time", { datetime: iso, title: iso }, moment.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }));
}

export function number(value) {
  return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US");
}

export function field(labelText, control, hint) {
  return h("label", {}, labelText, control, hint ? h("small", {}, hint) : null);
}

export function errorBox(error) {
  return h("p", { class: "alert", role: "alert" }, error.message || String(error));
}
