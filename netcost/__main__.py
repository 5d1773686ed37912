"""`python -m netcost`: the same as the `netcost` command (the app by default, or a subcommand)."""

from netcost.gui.app.entry import entry

entry()
