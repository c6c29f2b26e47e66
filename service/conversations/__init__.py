"""Anonymous conversations with a counsellor: message threads (issue 16) and, on the same
models, live text sessions (issue 17)."""
