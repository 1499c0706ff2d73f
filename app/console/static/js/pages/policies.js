import { api, session } from "../api.js";
import { h, link, replace, table, when } from "../dom.js";

export const title = "Policies";
export const roles = ["owner", "admin", "member"];

export async function render(main, _params, { navigate }) {
  const admin = ["owner", "admin"].includes(session().role);
  const { policies } = await api.get("/policies");
  const name = h("input", { id: "new-policy", name: "name", pattern: "[A-Za-z0-9][A-Za-z0-9._-]*", maxlength: "100", required: true });
  replace(
    main,
    h("h1", {}, "Policies"),
    h("p", {}, "A policy is a named, versioned document; ", h("code", {}, "default"), " applies to every repository. Saving a policy creates its next version."),
    table(
      [
        { title: "Name", cell: (p) => link(`/console/policies/${encodeURIComponent(p.name)}`, p.name) },
        { title: "Latest version", numeric: true, cell: (p) => p.version },
        { title: "Saved", cell: (p) => when(p.created_at) },
      ],
      policies,
      { caption: "Policies, latest versions", empty: "No policies yet: the plan's limits and built-in defaults apply." },
    ),
    admin
      ? h(
          "form",
          {
            class: "inline panel",
            onsubmit: (event) => {
              event.preventDefault();
              navigate(`/console/policies/${encodeURIComponent(name.value)}`);
            },
          },
          h("label", { for: "new-policy" }, "New policy name", name),
          h("button", { type: "submit" }, "Create policy"),
        )
      : null,
  );
}
