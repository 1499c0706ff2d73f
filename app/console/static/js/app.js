// The console's shell: who is signed in, the navigation their role may use, and the page the
// address names. Pages are modules exporting `title`, `roles` and `render(main, params)`.

import { request, session, setSession } from "./api.js";
import { announce, h, replace } from "./dom.js";
import * as audit from "./pages/audit.js";
import * as keys from "./pages/keys.js";
import * as policies from "./pages/policies.js";
import * as policy from "./pages/policy.js";
import * as repositories from "./pages/repositories.js";
import * as repository from "./pages/repository.js";
import * as run from "./pages/run.js";
import * as runs from "./pages/runs.js";
import * as signin from "./pages/signin.js";
import * as team from "./pages/team.js";
import * as usage from "./pages/usage.js";

const ROUTES = [
  [/^\/console\/runs\/?$/, runs],
  [/^\/console\/runs\/([0-9a-f-]{36})$/, run],
  [/^\/console\/repositories\/?$/, repositories],
  [/^\/console\/repositories\/([0-9a-f-]{36})$/, repository],
  [/^\/console\/policies\/?$/, policies],
  [/^\/console\/policies\/([A-Za-z0-9][A-Za-z0-9._-]*)$/, policy],
  [/^\/console\/keys\/?$/, keys],
  [/^\/console\/team\/?$/, team],
  [/^\/console\/audit\/?$/, audit],
  [/^\/console\/usage\/?$/, usage],
  [/^\/console\/sign-in\/?$/, signin],
];

// The navigation, in order; each page names the roles that may open it.
const NAV = [
  ["/console/runs", runs],
  ["/console/repositories", repositories],
  ["/console/policies", policies],
  ["/console/keys", keys],
  ["/console/team", team],
  ["/console/audit", audit],
  ["/console/usage", usage],
];

const ROLE_NAMES = { owner: "an owner", admin: "an admin", member: "a member", billing: "billing" };

function home() {
  return session()?.role === "billing" ? "/console/usage" : "/console/runs";
}

export function navigate(path, { replaceState = false } = {}) {
  if (replaceState) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  show();
}

function renderNav() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  const current = session();
  if (!current) {
    replace(nav);
    replace(who);
    return;
  }
  const here = location.pathname;
  replace(
    nav,
    h(
      "ul",
      {},
      NAV.filter(([, page]) => page.roles.includes(current.role)).map(([href, page]) =>
        h("li", {}, h("a", { href, "data-internal": "true", "aria-current": here.startsWith(href) ? "page" : null }, page.title)),
      ),
    ),
  );
  replace(
    who,
    h("span", {}, `${current.workspace.name} · ${current.role}`),
    h("button", { type: "button", onclick: signOut }, "Sign out"),
  );
}

async function signOut() {
  try {
    await request("/console/session", { method: "DELETE" });
  } finally {
    setSession(null);
    navigate("/console/sign-in");
    announce("Signed out");
  }
}

let navigated = false;

async function show() {
  const main = document.getElementById("main");
  let path = location.pathname.replace(/\/+$/, "") || "/console";
  if (!session() && path !== "/console/sign-in") {
    try {
      setSession(await request("/console/session"));
    } catch {
      history.replaceState(null, "", "/console/sign-in");
      path = "/console/sign-in";
    }
  }
  if (path === "/console" || (path === "/console/sign-in" && session())) {
    history.replaceState(null, "", home());
    path = home();
  }
  renderNav();
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  if (!route) {
    document.title = "Not found · Sentinel";
    replace(main, h("h1", {}, "Not found"), h("p", {}, "There is no console page at this address."));
    return;
  }
  const [pattern, page] = route;
  const params = path.match(pattern).slice(1).map(decodeURIComponent);
  document.title = `${page.title} · Sentinel`;
  if (page.roles && !page.roles.includes(session()?.role)) {
    replace(
      main,
      h("h1", { tabindex: "-1" }, "Not available to your role"),
      h("p", {}, `${page.title} is for ${page.roles.map((r) => ROLE_NAMES[r]).join(", ")}; you are signed in as ${ROLE_NAMES[session().role]}.`),
    );
  } else {
    replace(main, h("p", {}, "Loading…"));
    try {
      await page.render(main, params, { navigate });
    } catch (error) {
      replace(
        main,
        h("h1", { tabindex: "-1" }, error.status === 404 ? "Not found" : "Something went wrong"),
        h("p", { class: "alert", role: "alert" }, error.message || String(error)),
      );
    }
  }
  // After a navigation, the new page's heading takes the focus, so keyboard and screen
  // reader users start at its top (the first load leaves the focus to the browser).
  const heading = main.querySelector("h1");
  if (heading && navigated) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
  navigated = true;
  main.setAttribute("data-ready", "true");
}

document.addEventListener("click", (event) => {
  const anchor = event.target.closest("a[data-internal]");
  if (!anchor || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(anchor.getAttribute("href"));
});
window.addEventListener("popstate", show);
window.addEventListener("console:signed-out", () => navigate("/console/sign-in", { replaceState: true }));

show();
