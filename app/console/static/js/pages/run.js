import { api, session } from "../api.js";
import { badge, facts, h, number, replace, table, when } from "../dom.js";

export const title = "Run";
export const roles = ["owner", "admin", "member", "billing"];

// Where a finding went on GitHub, from its annotations and what the publish guard withheld.
function placement(finding, run) {
  const types = new Set(finding.annotations.map((a) => a.type));
  if (types.has("review_comment")) return badge("inline", "inline");
  if (types.has("summary")) return badge("summary", "summary");
  if ((run.metrics?.blocked ?? []).length) return badge("withheld", "withheld");
  return badge("not posted", "skipped");
}

function money(value) {
  return value === undefined || value === null ? null : `$${Number(value).toFixed(4)}`;
}

export async function render(main, [id]) {
  const run = await api.get(`/runs/${id}`);
  const metrics = run.metrics ?? {};
  const snapshot = run.policy_snapshot ?? {};
  const web = session().github_web_url ?? "https://github.com";
  const github = run.repository && /^https?:\/\//.test(web) ? `${web}/${run.repository.split("/").map(encodeURIComponent).join("/")}/pull/${run.pull_request_number}` : null;
  const problem = ["failed", "skipped", "cancelled", "superseded"].includes(run.status) && run.status_reason;
  replace(
    main,
    h("h1", {}, `Run of ${run.repository ?? "a repository"} #${run.pull_request_number}`),
    problem ? h("p", { class: run.status === "failed" ? "alert" : "notice", role: "note" }, h("strong", {}, `${run.status}: `), run.status_reason) : null,
    facts([
      ["Status", badge(run.status)],
      run.status_reason && !problem ? ["Status detail", run.status_reason] : null,
      ["Pull request", github ? h("a", { href: github, rel: "noreferrer noopener", target: "_blank" }, `${run.repository}#${run.pull_request_number}`) : `#${run.pull_request_number}`],
      ["Commit", h("code", {}, run.head_sha)],
      ["Trigger", `${run.trigger} (${run.kind})`],
      ["Created", when(run.created_at)],
      ["Completed", when(run.completed_at)],
      ["Policy", run.policy?.name ? `${run.policy.name} v${run.policy.version}` : "no named policy (plan limits and defaults)"],
      ["Policy hash", snapshot.hash ? h("code", {}, snapshot.hash) : "—"],
      ["Prompt version", metrics.prompt_version || "—"],
      ["Provider / model", metrics.provider ? `${metrics.provider} / ${metrics.model}` : "static reviewers only"],
      ["Input / output tokens", `${number(metrics.input_tokens ?? 0)} / ${number(metrics.output_tokens ?? 0)}`],
      ["Cost", money(metrics.cost_usd) ?? (metrics.provider ? "—" : "no model cost")],
      ["Estimate before", metrics.estimate || "—"],
      ["Files reviewed", number(metrics.files_reviewed ?? 0)],
    ]),
    h("h2", {}, `Findings (${run.findings.length})`),
    table(
      [
        { title: "Severity", cell: (f) => badge(f.severity) },
        { title: "Finding", cell: (f) => [h("strong", {}, f.title), h("br"), f.description] },
        { title: "Where", cell: (f) => h("code", {}, `${f.file_path}:${f.line_start}${f.line_end !== f.line_start ? `-${f.line_end}` : ""}`) },
        { title: "Category", cell: (f) => f.category },
        { title: "Confidence", numeric: true, cell: (f) => `${Math.round(f.confidence * 100)}%` },
        { title: "Posted", cell: (f) => placement(f, run) },
      ],
      run.findings,
      { caption: "Every finding and where it was posted", empty: "No findings." },
    ),
    (metrics.not_reviewed ?? []).length
      ? [
          h("h2", {}, `Files not reviewed (${metrics.not_reviewed.length})`),
          table(
            [
              { title: "File", cell: (item) => h("code", {}, item[0] ?? item.path) },
              { title: "Why", cell: (item) => item[1] ?? item.reason },
            ],
            metrics.not_reviewed,
          ),
        ]
      : null,
    (metrics.blocked ?? []).length ? h("p", { class: "notice" }, `Withheld from GitHub by the publish guard: ${metrics.blocked.join(", ")}.`) : null,
  );
}
