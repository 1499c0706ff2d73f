import { api } from "../api.js";
import { h, replace, table, when } from "../dom.js";

export const title = "Audit log";
export const roles = ["owner", "admin"];

export async function render(main, _params, { navigate }) {
  const query = new URLSearchParams(location.search);
  const action = h("input", { id: "audit-action", name: "action", value: query.get("action") ?? "", placeholder: "e.g. provider_key.saved" });
  const list = h("div", {});
  const more = h("div", {});
  replace(
    main,
    h("h1", {}, "Audit log"),
    h("form", {
      class: "filters",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        navigate(`/console/audit${action.value ? `?action=${encodeURIComponent(action.value)}` : ""}`);
      },
    }, h("label", { for: "audit-action" }, "Action", action), h("button", { type: "submit" }, "Filter")),
    list,
    more,
  );
  const shown = [];
  async function load(after) {
    const wanted = new URLSearchParams({ limit: "100" });
    if (query.get("action")) wanted.set("action", query.get("action"));
    if (after) wanted.set("after", after);
    const page = await api.get(`/audit-events?${wanted}`);
    shown.push(...page.events);
    replace(list, table(
      [
        { title: "When", cell: (e) => when(e.created_at) },
        { title: "Who", cell: (e) => `${e.actor_type}${e.actor_id ? `:${e.actor_id.slice(0, 8)}` : ""}` },
        { title: "Action", cell: (e) => h("code", {}, e.action) },
        { title: "Resource", cell: (e) => `${e.resource_type}${e.resource_id ? ` ${e.resource_id.slice(0, 12)}` : ""}` },
        { title: "Details", cell: (e) => h("code", {}, JSON.stringify(e.metadata)) },
      ],
      shown,
      { caption: "Admin writes, newest first", empty: "Nothing recorded yet." },
    ));
    replace(more, page.next ? h("button", { type: "button", onclick: () => load(page.next) }, "Load more events") : null);
  }
  await load(null);
}
