"""The node's HTTP server: health, the JSON API and (growing) the web UI."""
