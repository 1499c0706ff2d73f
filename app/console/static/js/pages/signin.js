import { request, setSession } from "../api.js";
import { announce, h, replace } from "../dom.js";

export const title = "Sign in";
export const roles = null;

export async function render(main, _params, { navigate }) {
  const token = h("input", { id: "token", name: "token", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const problem = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        problem.textContent = "";
        try {
          setSession(await request("/console/session", { method: "POST", body: { token: token.value } }));
          token.value = "";
          announce("Signed in");
          navigate("/console", { replaceState: true });
        } catch (error) {
          problem.textContent = error.message;
          token.focus();
        }
      },
    },
    h("label", { for: "token" }, "API token", token),
    h("small", {}, "From `sentinel token create` or the Quickstart. The token is exchanged for a session; it is not kept in this page."),
    h("button", { class: "primary", type: "submit" }, "Sign in"),
    problem,
  );
  replace(main, h("section", { class: "signin panel" }, h("h1", {}, "Sign in to Sentinel"), form));
}
