import { request, setSession } from "../api.js";
import { announce, h, replace } from "../dom.js";

export const title = "Sign in";
export const roles = null;

// What a GitHub sign-in that went wrong comes back with (a code, never words from the URL).
const PROBLEMS = {
  expired: "The GitHub sign-in expired or did not start here. Try again.",
  denied: "GitHub did not authorise the sign-in.",
  github_refused: "GitHub did not accept the sign-in. Try again; if it keeps failing, an admin should check the App's client ID and secret.",
  github_unreachable: "GitHub could not be reached to finish the sign-in. Try again in a moment.",
  not_member: "That GitHub account is not a member of a Sentinel workspace. Ask a workspace admin for an invitation.",
};

export async function render(main, _params, { navigate }) {
  const query = new URLSearchParams(location.search);
  const options = await request("/console/sign-in-options").catch(() => ({ github: false }));
  const token = h("input", { id: "token", name: "token", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const problem = h("p", { class: "error", role: "alert" }, PROBLEMS[query.get("problem")] ?? "");
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
  const workspaces = (query.get("workspaces") ?? "").split(",").filter((slug) => /^[a-z0-9][a-z0-9-]*$/.test(slug));
  const github = options.github
    ? h(
        "div",
        { class: "panel" },
        workspaces.length
          ? [
              h("p", {}, "Your GitHub account is a member of several workspaces. Sign in to:"),
              h("ul", {}, workspaces.map((slug) => h("li", {}, h("a", { href: `/console/oauth/github?workspace=${encodeURIComponent(slug)}` }, slug)))),
            ]
          : h("a", { class: "button primary", href: "/console/oauth/github" }, "Sign in with GitHub"),
      )
    : null;
  replace(main, h("section", { class: "signin panel" }, h("h1", {}, "Sign in to Sentinel"), github, form));
}
