"""NetCost's desktop app: the only package that builds widgets. It computes no cost itself."""
