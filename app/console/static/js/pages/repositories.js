import { api, session } from "../api.js";
import { announce, badge, h, link, replace, table } from "../dom.js";

export const title = "Repositories";
export const roles = ["owner", "admin", "member"];

export async function render(main) {
  const admin = ["owner", "admin"].includes(session().role);
  const { repositories } = await api.get("/repositories");
  const problem = h("div", {});

  function toggle(repository) {
    const state = h("span", { class: "state", "aria-hidden": "true" }, repository.is_enabled ? "on" : "off");
    const button = h("button", {
      type: "button",
      "aria-pressed": String(repository.is_enabled),
      onclick: async () => {
        button.disabled = true;
        replace(problem);
        try {
          const saved = await api.patch(`/repositories/${repository.id}`, { is_enabled: !repository.is_enabled });
          repository.is_enabled = saved.is_enabled;
          button.setAttribute("aria-pressed", String(saved.is_enabled));
          state.textContent = saved.is_enabled ? "on" : "off";
          announce(`${repository.name}: reviews ${saved.is_enabled ? "enabled" : "disabled"}`);
        } catch (error) {
          replace(problem, h("p", { class: "alert", role: "alert" }, error.message));
        } finally {
          button.disabled = false;
        }
      },
    }, "Reviews", h("span", { class: "visually-hidden" }, ` for ${repository.name}`));
    return h("span", { class: "toggle" }, button, " ", state);
  }

  replace(
    main,
    h("h1", {}, "Repositories"),
    problem,
    table(
      [
        { title: "Repository", cell: (r) => link(`/console/repositories/${r.id}`, r.name) },
        { title: "Visibility", cell: (r) => (r.is_private ? "private" : "public") },
        { title: "Default branch", cell: (r) => r.default_branch ?? "—" },
        { title: "Reviews", cell: (r) => (admin ? toggle(r) : badge(r.is_enabled ? "enabled" : "disabled")) },
      ],
      repositories,
      { caption: admin ? "Turn reviews on or off per repository" : "Repositories of the workspace", empty: "No repositories: install the GitHub App on some." },
    ),
  );
}
