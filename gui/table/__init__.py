"""The layer table, the Layer panel that edits a row, the module tree and the Totals panel."""
