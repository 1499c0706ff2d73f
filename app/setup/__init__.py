"""The setup page: registering Sentinel as a GitHub App with GitHub's manifest flow.

`GET /setup` renders a form that posts `github-app.yml` (as JSON, with the operator's public URL
in it) to GitHub's "new App" page; GitHub creates the App and sends the browser back to
`GET /setup/github/callback` with a one-hour code, which Sentinel exchanges for the App's id,
private key and webhook secret and writes to `SENTINEL_SETUP_OUTPUT_DIR`. Modules: `manifest`
(the manifest and GitHub's URLs), `states` (the CSRF `state`), `conversion` (the exchange),
`credentials` (the files), `pages` (HTML), `router` (the two routes).
"""
