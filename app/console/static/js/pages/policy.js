import { diffLines } from "/console/vendor/diff/index.js";
import { api, session } from "../api.js";
import { announce, h, link, replace, table, when } from "../dom.js";
import { toYaml, yamlEditor } from "../editor.js";

export const title = "Policy";
export const roles = ["owner", "admin", "member"];

function diffView(before, after) {
  const parts = diffLines(before, after);
  if (parts.every((p) => !p.added && !p.removed)) return h("p", {}, "The two versions are the same.");
  return h(
    "pre",
    { class: "diff", "aria-label": "Differences between the versions" },
    parts.map((part) => {
      const lines = part.value.replace(/\n$/, "").split("\n");
      if (part.added) return lines.map((l) => h("ins", {}, h("span", { class: "visually-hidden" }, "added: "), `+ ${l}`));
      if (part.removed) return lines.map((l) => h("del", {}, h("span", { class: "visually-hidden" }, "removed: "), `- ${l}`));
      return lines.map((l) => h("span", {}, `  ${l}`));
    }),
  );
}

export async function render(main, [name], { navigate }) {
  const admin = ["owner", "admin"].includes(session().role);
  let versions = [];
  try {
    versions = (await api.get(`/policies/${encodeURIComponent(name)}/versions`)).policies;
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  versions.sort((a, b) => b.version - a.version);
  const latest = versions[0];
  const editor = await yamlEditor({ id: "policy", label: `Policy document (YAML)${latest ? `, from version ${latest.version}` : ""}`, schemaName: "policy", initial: toYaml(latest?.config ?? {}) });
  const result = h("div", { "aria-live": "polite" });

  const options = (selected) => versions.map((v) => h("option", { value: v.version, selected: v.version === selected }, `v${v.version}`));
  const from = h("select", { id: "diff-from" }, options(versions[1]?.version ?? latest?.version));
  const to = h("select", { id: "diff-to" }, options(latest?.version));
  const diffOut = h("div", {});
  function showDiff() {
    const a = versions.find((v) => v.version === Number(from.value));
    const b = versions.find((v) => v.version === Number(to.value));
    if (a && b) replace(diffOut, diffView(toYaml(a.config), toYaml(b.config)));
  }

  replace(
    main,
    h("p", {}, link("/console/policies", "← Policies")),
    h("h1", {}, `Policy ${name}`),
    admin
      ? h(
          "form",
          {
            onsubmit: async (event) => {
              event.preventDefault();
              const { document: config, problems } = editor.current();
              if (problems.length) {
                replace(result, h("p", { class: "alert", role: "alert" }, "Fix the problems above first."));
                return;
              }
              try {
                const saved = await api.post("/policies", { name, config });
                announce(`Saved version ${saved.version}`);
                await navigate(`/console/policies/${encodeURIComponent(name)}`, { replaceState: true });
              } catch (error) {
                replace(result, h("p", { class: "alert", role: "alert" }, error.message));
              }
            },
          },
          editor.element,
          h("p", {}, h("button", { class: "primary", type: "submit" }, latest ? "Save as a new version" : "Save version 1")),
          result,
        )
      : h("pre", { class: "diff" }, toYaml(latest?.config ?? {}) || "(empty)"),
    h("h2", {}, "Versions"),
    table(
      [
        { title: "Version", numeric: true, cell: (v) => `v${v.version}` },
        { title: "Saved", cell: (v) => when(v.created_at) },
      ],
      versions,
      { caption: "Every version, newest first", empty: "Not saved yet." },
    ),
    versions.length > 1
      ? [
          h("h2", {}, "Compare versions"),
          h("div", { class: "filters" }, h("label", { for: "diff-from" }, "From", from), h("label", { for: "diff-to" }, "To", to)),
          diffOut,
        ]
      : null,
  );
  from.addEventListener("change", showDiff);
  to.addEventListener("change", showDiff);
  if (versions.length > 1) showDiff();
}
