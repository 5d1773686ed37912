"""Design changes: the Compare and Sweep tabs and the Rewrites panel."""
