"""Formats and readers: layer lists, graph files and projects, device files, `--set` edits, the built-in zoo's
lists, report tables (JSON, CSV, Markdown, the terminal), PyTorch source out (`export-torch`), and the checks that
tell what a model file holds. No torch; imports only model_io's bottom layer (errors, options, file kinds, ...)."""
