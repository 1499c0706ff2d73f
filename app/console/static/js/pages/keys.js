import { api } from "../api.js";
import { announce, h, replace, table, when } from "../dom.js";

export const title = "Provider keys";
export const roles = ["owner", "admin"];

function verificationText(v) {
  return v.ok ? `The provider accepted the key: ${v.message}` : `The provider did not accept the key (${v.kind}): ${v.message}`;
}

export async function render(main, _params, context) {
  const { provider_keys: keys } = await api.get("/provider-keys");
  const result = h("div", { "aria-live": "polite" });
  const provider = h("select", { id: "key-provider", name: "provider" }, h("option", { value: "anthropic" }, "Anthropic"), h("option", { value: "openai" }, "OpenAI"));
  const apiKey = h("input", { id: "key-value", name: "api_key", type: "password", autocomplete: "off", spellcheck: "false", required: true, minlength: "8", maxlength: "500" });
  const baseUrl = h("input", { id: "key-base-url", name: "base_url", type: "url", placeholder: "https://… (optional)" });
  const model = h("input", { id: "key-model", name: "model", placeholder: "optional" });
  const verify = h("input", { id: "key-verify", type: "checkbox", checked: true });

  async function rerender(message, ok = true) {
    await render(main, _params, context);
    const box = main.querySelector("[data-result]");
    replace(box, h("p", { class: ok ? "ok" : "alert", role: ok ? null : "alert" }, message));
    announce(message);
  }

  const form = h(
    "form",
    {
      class: "panel",
      onsubmit: async (event) => {
        event.preventDefault();
        const body = { api_key: apiKey.value };
        if (baseUrl.value.trim()) body.base_url = baseUrl.value.trim();
        if (model.value.trim()) body.model = model.value.trim();
        apiKey.value = ""; // never kept in the page once sent
        try {
          const saved = await api.put(`/provider-keys/${provider.value}${verify.checked ? "?verify=true" : ""}`, body);
          const note = saved.verification ? ` ${verificationText(saved.verification)}` : "";
          await rerender(`Saved the ${saved.provider} key ending in ${saved.key_last4}.${note}`, !saved.verification || saved.verification.ok);
        } catch (error) {
          replace(result, h("p", { class: "alert", role: "alert" }, error.message));
        }
      },
    },
    h("h2", { id: "key-form" }, "Add or rotate a key"),
    h("p", {}, "Saving a key for a provider that has one replaces it (rotation). Keys are stored encrypted and never shown again."),
    h("div", { class: "filters" },
      h("label", { for: "key-provider" }, "Provider", provider),
      h("label", { for: "key-value" }, "API key", apiKey),
      h("label", { for: "key-base-url" }, "Compatible endpoint", baseUrl),
      h("label", { for: "key-model" }, "Model", model),
      h("label", { class: "check", for: "key-verify" }, verify, " Verify with one minimal call"),
      h("button", { class: "primary", type: "submit" }, "Save key")),
    result,
  );

  replace(
    main,
    h("h1", {}, "Provider keys"),
    h("div", { "data-result": "true", "aria-live": "polite" }),
    table(
      [
        { title: "Provider", cell: (k) => k.provider },
        { title: "Key", cell: (k) => h("code", { "data-masked": "true" }, `••••${k.key_last4}`) },
        { title: "Model", cell: (k) => k.model ?? "provider default" },
        { title: "Endpoint", cell: (k) => k.base_url ?? "the provider's" },
        { title: "Encryption", cell: (k) => `key v${k.key_version}` },
        { title: "Updated", cell: (k) => when(k.updated_at) },
        {
          title: "Actions",
          cell: (k) => h("div", { class: "filters" },
            h("button", { type: "button", onclick: async (event) => {
              event.target.disabled = true;
              try {
                const v = await api.post(`/provider-keys/${k.provider}/verify`);
                await rerender(`${k.provider}: ${verificationText(v)}`, v.ok);
              } catch (error) {
                await rerender(error.message, false);
              }
            } }, `Verify ${k.provider} key`),
            h("button", { type: "button", onclick: () => {
              provider.value = k.provider;
              apiKey.focus();
            } }, `Rotate ${k.provider} key`),
            h("button", { type: "button", class: "danger", onclick: async () => {
              if (!window.confirm(`Delete the ${k.provider} key? Reviews will use the static reviewers only until a key is added.`)) return;
              try {
                await api.delete(`/provider-keys/${k.provider}`);
                await rerender(`Deleted the ${k.provider} key.`);
              } catch (error) {
                await rerender(error.message, false);
              }
            } }, `Delete ${k.provider} key`)),
        },
      ],
      keys,
      { caption: "Keys, masked", empty: "No provider keys: reviews use the static reviewers only." },
    ),
    form,
  );
}
