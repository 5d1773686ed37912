"""The open model as the window edits it: the cost document (keyed by node id), its undo commands, the selection,
loading, timing and autosave."""
