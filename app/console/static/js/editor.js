// A YAML editor for a settings or policy document, validated against the API's own JSON
// Schema as one types (the server validates again on save).

import { Validator } from "/console/vendor/json-schema/index.js";
import { dump, load } from "/console/vendor/js-yaml/js-yaml.mjs";
import { h, replace } from "./dom.js";

const schemas = new Map();

async function schema(name) {
  if (!schemas.has(name)) {
    const response = await fetch(`/console/schemas/${name}.json`, { credentials: "same-origin" });
    schemas.set(name, await response.json());
  }
  return schemas.get(name);
}

export function toYaml(document) {
  return Object.keys(document ?? {}).length ? dump(document, { lineWidth: 100, noRefs: true }) : "";
}

function where(pointer) {
  const path = pointer.replace(/^#\/?/, "").split("/").filter(Boolean).join(".");
  return path ? `${path}: ` : "";
}

// `check(text)` → { document, problems }.
export async function documentChecker(schemaName) {
  const validator = new Validator(await schema(schemaName), "2020-12", false);
  return (text) => {
    let document;
    try {
      document = text.trim() ? load(text) : {};
    } catch (error) {
      const line = error.mark ? ` (line ${error.mark.line + 1})` : "";
      return { document: null, problems: [`Not valid YAML${line}: ${error.reason ?? error.message}`] };
    }
    if (document === null || typeof document !== "object" || Array.isArray(document)) {
      return { document: null, problems: ["The document must be a mapping of keys to values."] };
    }
    const result = validator.validate(document);
    const problems = result.valid
      ? []
      : result.errors
          .filter((e) => !["properties", "allOf", "anyOf", "$ref"].includes(e.keyword) || result.errors.length === 1)
          .map((e) => `${where(e.instanceLocation)}${e.error}`);
    return { document, problems: [...new Set(problems)] };
  };
}

export async function yamlEditor({ id, label, schemaName, initial }) {
  const check = await documentChecker(schemaName);
  const status = h("div", { id: `${id}-status`, "aria-live": "polite" });
  const area = h("textarea", { id, name: id, spellcheck: "false", "aria-describedby": `${id}-status`, autocapitalize: "off" });
  area.value = initial;
  let latest = check(initial);
  function show() {
    latest = check(area.value);
    area.setAttribute("aria-invalid", latest.problems.length ? "true" : "false");
    replace(
      status,
      latest.problems.length
        ? h("ul", { class: "problems error" }, latest.problems.map((p) => h("li", {}, p)))
        : h("p", { class: "ok" }, "Valid against the schema."),
    );
  }
  let timer = null;
  area.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(show, 150);
  });
  show();
  return {
    element: h("div", {}, h("label", { for: id }, label), area, status),
    current: () => {
      show();
      return latest;
    },
  };
}
