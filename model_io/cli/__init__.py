"""The GUI-free command line (`netcost summary`, `check`, `rewrites`, `compare`, `latency`, `llm`, ...): argument
parsing, the commands' handlers and their tables. The top of model_io: imports any part of it, nothing imports it
but the entry points (`python -m netcost.model_io`, netcost.gui.entry)."""
