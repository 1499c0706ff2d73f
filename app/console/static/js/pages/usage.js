import "/console/vendor/chart.js/chart.umd.js";
import { api, request, workspacePath } from "../api.js";
import { announce, facts, h, number, replace, table } from "../dom.js";

export const title = "Usage";
export const roles = ["owner", "admin", "billing"];

const GROUPS = { day: "Day", repository: "Repository", type: "Usage type", model: "Model" };
const TYPES = ["review", "llm_input_tokens", "llm_output_tokens"];

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function monthRange() {
  const now = new Date();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return [isoDay(start), isoDay(end)];
}

function allowance(a) {
  if (!a) return "—";
  return a.limit === null || a.limit === undefined ? `${number(a.used)} (no limit)` : `${number(a.used)} of ${number(a.limit)} (${number(a.remaining)} left)`;
}

let chart = null;

export async function render(main, _params, { navigate }) {
  const query = new URLSearchParams(location.search);
  const [defaultStart, defaultEnd] = monthRange();
  const range = { start: query.get("start") || defaultStart, end: query.get("end") || defaultEnd, group_by: query.get("group_by") || "day" };
  const wanted = new URLSearchParams(range);
  const [workspace, summary] = await Promise.all([api.get(""), api.get(`/usage?${wanted}`)]);

  const start = h("input", { id: "usage-start", name: "start", type: "date", value: range.start, required: true });
  const end = h("input", { id: "usage-end", name: "end", type: "date", value: range.end, required: true });
  const group = h("select", { id: "usage-group", name: "group_by" }, Object.entries(GROUPS).map(([value, label]) => h("option", { value, selected: value === range.group_by }, label)));
  const canvas = h("canvas", { id: "usage-chart", role: "img", "aria-label": `Model tokens and reviews by ${GROUPS[range.group_by].toLowerCase()}, ${range.start} to ${range.end}; the table below has the figures` });
  const problem = h("div", { "aria-live": "polite" });
  const labelOf = (g) => g.label ?? g.key ?? "(none)";

  const download = h("button", {
    type: "button",
    onclick: async () => {
      try {
        const response = await request(workspacePath(`/usage?${wanted}`), { accept: "text/csv" });
        const blob = await response.blob();
        const url = URL.createObjectURL(blob);
        const anchor = h("a", { href: url, download: `sentinel-usage-${range.start}-${range.end}-by-${range.group_by}.csv` });
        document.body.append(anchor);
        anchor.click();
        anchor.remove();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
        announce("CSV downloaded");
      } catch (error) {
        replace(problem, h("p", { class: "alert", role: "alert" }, error.message));
      }
    },
  }, "Download CSV");

  const plan = workspace.plan ?? {};
  replace(
    main,
    h("h1", {}, "Usage"),
    h("section", { class: "panel", "aria-labelledby": "plan-heading" },
      h("h2", { id: "plan-heading" }, "Plan and quota this month"),
      facts([
        ["Plan", plan.name ?? "—"],
        ["Period", workspace.period ? `${workspace.period.start.slice(0, 10)} to ${workspace.period.end.slice(0, 10)} (end not included)` : "—"],
        ["Reviews", allowance(workspace.usage?.reviews)],
        ["Repositories", allowance(workspace.usage?.repositories)],
      ])),
    h("form", {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        if (end.value <= start.value) {
          replace(problem, h("p", { class: "alert", role: "alert" }, "The end must be after the start (the end day is not included)."));
          return;
        }
        navigate(`/console/usage?${new URLSearchParams({ start: start.value, end: end.value, group_by: group.value })}`);
      },
    },
      h("label", { for: "usage-start" }, "From", start),
      h("label", { for: "usage-end" }, "To (not included)", end),
      h("label", { for: "usage-group" }, "By", group),
      h("button", { type: "submit" }, "Show"),
      download),
    problem,
    h("div", { class: "chart" }, canvas),
    h("h2", {}, "Totals"),
    facts(TYPES.map((t) => [t, number(summary.totals[t] ?? 0)])),
    h("h2", {}, `By ${GROUPS[range.group_by].toLowerCase()}`),
    table(
      [
        { title: GROUPS[range.group_by], cell: labelOf },
        ...TYPES.map((t) => ({ title: t, numeric: true, cell: (g) => number(g.quantities[t] ?? 0) })),
      ],
      summary.groups,
      { caption: `Usage from ${range.start} to ${range.end} (end not included)`, empty: "No usage in this range." },
    ),
  );

  if (chart) chart.destroy();
  chart = new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: summary.groups.map(labelOf),
      datasets: [
        { label: "Input tokens", data: summary.groups.map((g) => g.quantities.llm_input_tokens ?? 0), backgroundColor: "#0a58ca", stack: "tokens", yAxisID: "tokens" },
        { label: "Output tokens", data: summary.groups.map((g) => g.quantities.llm_output_tokens ?? 0), backgroundColor: "#6ea8fe", stack: "tokens", yAxisID: "tokens" },
        { label: "Reviews", data: summary.groups.map((g) => g.quantities.review ?? 0), type: "line", borderColor: "#1a7f37", backgroundColor: "#1a7f37", yAxisID: "reviews" },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        tokens: { type: "linear", position: "left", stacked: true, beginAtZero: true, title: { display: true, text: "tokens" } },
        reviews: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { precision: 0 }, title: { display: true, text: "reviews" } },
      },
    },
  });
}
