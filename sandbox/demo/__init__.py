"""Sentinel's demo: the real service reviewing a pull request on a built-in GitHub sandbox.

Two commands, run by `./scripts/quickstart` when no GitHub App is configured:

    python -m sandbox.demo serve-github --state-dir .data/sandbox \\
        --webhook-url http://127.0.0.1:8000/webhooks/github
    python -m sandbox.demo run --state-dir .data/sandbox --sentinel-url http://127.0.0.1:8000

`serve-github` (server.py) is a long-running GitHub: the simulator of `sandbox.github` with
the organisation `acme`, the App installed on it and the repository `acme/payments`
(sample.py), plus a control API under `/_sandbox/` (control.py). It writes what Sentinel needs
to reach it into the state directory (statefiles.py): `github.env` for `sentinel api` and
`sentinel worker`, `sandbox.json` for `run`.

`run` (run.py) installs the App, saves a model key when ANTHROPIC_API_KEY or OPENAI_API_KEY
is set (the static reviewer reviews alone otherwise; no model is ever simulated here), opens
the sample pull request, waits for Sentinel's review and prints what was posted on GitHub and
the usage records Sentinel wrote. Like the rest of `sandbox/`, the product never imports it.
"""
