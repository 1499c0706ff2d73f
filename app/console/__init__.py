"""The admin web console under `/console`: a browser app on the REST API (no second data
path), signed in with an API token through an HttpOnly session cookie."""
