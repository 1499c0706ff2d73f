import { api, session } from "../api.js";
import { announce, badge, h, replace, table, when } from "../dom.js";

export const title = "Team";
export const roles = ["owner", "admin"];

const ROLES = ["owner", "admin", "member", "billing"];

export async function render(main, params, context) {
  const [{ members }, { invitations }] = await Promise.all([api.get("/members"), api.get("/invitations")]);
  const owner = session().role === "owner";
  const grantable = owner ? ROLES : ROLES.filter((r) => r !== "owner");
  const result = h("div", { "aria-live": "polite" });
  const say = (message, ok = true) => {
    replace(result, h("p", { class: ok ? "ok" : "alert", role: ok ? null : "alert" }, message));
    announce(message);
  };
  const again = async (message) => {
    await render(main, params, context);
    main.querySelector("[data-result]").replaceChildren(h("p", { class: "ok" }, message));
    announce(message);
  };

  const email = h("input", { id: "invite-email", type: "email", required: true, autocomplete: "off" });
  const role = h("select", { id: "invite-role" }, grantable.map((r) => h("option", { value: r, selected: r === "member" }, r)));
  const invite = h(
    "form",
    {
      class: "panel",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const created = await api.post("/invitations", { email: email.value, role: role.value });
          await again(`Invited ${created.email} as ${created.role}.`);
          main.querySelector("[data-result]").append(
            h("p", {}, "Send them this invitation token; it is shown once:"),
            h("p", { class: "once" }, created.token),
          );
        } catch (error) {
          say(error.message, false);
        }
      },
    },
    h("h2", {}, "Invite someone"),
    h("div", { class: "filters" }, h("label", { for: "invite-email" }, "Email", email), h("label", { for: "invite-role" }, "Role", role), h("button", { class: "primary", type: "submit" }, "Invite")),
  );

  replace(
    main,
    h("h1", {}, "Team"),
    h("div", { "data-result": "true", "aria-live": "polite" }),
    result,
    h("h2", {}, "Members"),
    table(
      [
        { title: "Name", cell: (m) => m.name ?? "—" },
        { title: "GitHub", cell: (m) => m.github_login ?? "—" },
        { title: "Email", cell: (m) => m.email ?? "—" },
        {
          title: "Role",
          cell: (m) => {
            const select = h("select", { "aria-label": `Role of ${m.name ?? m.email ?? m.github_login}`, disabled: m.role === "owner" && !owner },
              ROLES.map((r) => h("option", { value: r, selected: r === m.role, disabled: !grantable.includes(r) }, r)));
            select.addEventListener("change", async () => {
              try {
                await api.patch(`/members/${m.id}`, { role: select.value });
                await again(`${m.name ?? m.email}: now ${select.value}.`);
              } catch (error) {
                select.value = m.role;
                say(error.message, false);
              }
            });
            return select;
          },
        },
        { title: "Joined", cell: (m) => when(m.created_at) },
        {
          title: "",
          cell: (m) => h("button", { type: "button", class: "danger", onclick: async () => {
            if (!window.confirm(`Remove ${m.name ?? m.email} from the workspace?`)) return;
            try {
              await api.delete(`/members/${m.id}`);
              await again(`Removed ${m.name ?? m.email}.`);
            } catch (error) {
              say(error.message, false);
            }
          } }, "Remove"),
        },
      ],
      members,
      { caption: "Members and their roles", empty: "No members yet." },
    ),
    h("h2", {}, "Invitations"),
    table(
      [
        { title: "Email", cell: (i) => i.email },
        { title: "Role", cell: (i) => i.role },
        { title: "Status", cell: (i) => badge(i.status) },
        { title: "Expires", cell: (i) => when(i.expires_at) },
        {
          title: "",
          cell: (i) => (i.status === "pending"
            ? h("button", { type: "button", onclick: async () => {
              try {
                await api.delete(`/invitations/${i.id}`);
                await again(`Revoked the invitation of ${i.email}.`);
              } catch (error) {
                say(error.message, false);
              }
            } }, "Revoke")
            : ""),
        },
      ],
      invitations,
      { caption: "Invitations", empty: "No invitations." },
    ),
    invite,
  );
}
