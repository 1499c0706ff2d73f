import { api, session } from "../api.js";
import { announce, h, link, replace } from "../dom.js";
import { toYaml, yamlEditor } from "../editor.js";

export const title = "Repository settings";
export const roles = ["owner", "admin", "member"];

export async function render(main, [id]) {
  const admin = ["owner", "admin"].includes(session().role);
  const { repositories } = await api.get("/repositories");
  const repository = repositories.find((r) => r.id === id);
  if (!repository) throw Object.assign(new Error("No such repository in this workspace."), { status: 404 });
  const settings = await api.get(`/repositories/${id}/settings`);
  const editor = await yamlEditor({ id: "settings", label: "Settings (YAML, the keys of .sentinel.yml plus provider and model)", schemaName: "repository-settings", initial: toYaml(settings) });
  const result = h("div", { "aria-live": "polite" });
  const save = h("button", { class: "primary", type: "submit", disabled: !admin }, "Save settings");
  replace(
    main,
    h("p", {}, link("/console/repositories", "← Repositories")),
    h("h1", {}, `Settings of ${repository.name}`),
    admin ? null : h("p", { class: "notice" }, "Only owners and admins can change settings."),
    h(
      "form",
      {
        onsubmit: async (event) => {
          event.preventDefault();
          const { document: parsed, problems } = editor.current();
          if (problems.length) {
            replace(result, h("p", { class: "alert", role: "alert" }, "Fix the problems above first."));
            return;
          }
          try {
            await api.put(`/repositories/${id}/settings`, parsed);
            replace(result, h("p", { class: "ok" }, "Saved."));
            announce("Settings saved");
          } catch (error) {
            replace(result, h("p", { class: "alert", role: "alert" }, error.message));
          }
        },
      },
      editor.element,
      h("p", {}, save),
      result,
    ),
  );
}
