import { api } from "../api.js";
import { badge, field, h, link, replace, table, when } from "../dom.js";

export const title = "Runs";
export const roles = ["owner", "admin", "member", "billing"];

const STATUSES = ["queued", "running", "completed", "failed", "skipped", "superseded", "cancelled"];

function runRows(runs) {
  return table(
    [
      { title: "Created", cell: (r) => link(`/console/runs/${r.id}`, when(r.created_at)) },
      { title: "Repository", cell: (r) => r.repository ?? "—" },
      { title: "Pull request", cell: (r) => `#${r.pull_request_number}` },
      { title: "Commit", cell: (r) => h("code", {}, r.head_sha.slice(0, 12)) },
      { title: "Status", cell: (r) => badge(r.status) },
      { title: "Findings", numeric: true, cell: (r) => ("inline_comments" in (r.metrics ?? {}) ? r.metrics.inline_comments + (r.metrics.summary_findings ?? 0) : "—") },
      { title: "Reason", cell: (r) => r.status_reason ?? "" },
    ],
    runs,
    { caption: "Runs, newest first", empty: "No runs match." },
  );
}

export async function render(main, _params, { navigate }) {
  const query = new URLSearchParams(location.search);
  const { repositories } = await api.get("/repositories");
  const repository = h("select", { name: "repository_id" }, h("option", { value: "" }, "All repositories"),
    repositories.map((r) => h("option", { value: r.id, selected: query.get("repository_id") === r.id }, r.name)));
  const pull = h("input", { name: "pull_request_number", type: "number", min: "1", inputmode: "numeric", value: query.get("pull_request_number") ?? "" });
  const status = h("select", { name: "status" }, h("option", { value: "" }, "Any status"),
    STATUSES.map((s) => h("option", { value: s, selected: query.get("status") === s }, s)));
  const filters = h(
    "form",
    {
      class: "filters",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        const chosen = new URLSearchParams();
        for (const [name, value] of new FormData(event.target)) if (value) chosen.set(name, value);
        navigate(`/console/runs${chosen.size ? `?${chosen}` : ""}`);
      },
    },
    field("Repository", repository),
    field("Pull request", pull),
    field("Status", status),
    h("button", { type: "submit" }, "Filter"),
  );
  const list = h("div", {});
  const more = h("div", {});
  replace(main, h("h1", {}, "Runs"), filters, list, more);

  const shown = [];
  async function load(after) {
    const wanted = new URLSearchParams();
    for (const name of ["repository_id", "pull_request_number", "status"]) if (query.get(name)) wanted.set(name, query.get(name));
    wanted.set("limit", "50");
    if (after) wanted.set("after", after);
    const page = await api.get(`/runs?${wanted}`);
    shown.push(...page.runs);
    replace(list, runRows(shown));
    replace(more, page.next ? h("button", { type: "button", onclick: () => load(page.next) }, "Load more runs") : null);
  }
  await load(null);
}
