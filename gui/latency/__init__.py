"""The Latency dock: roofline estimates and measured time, and its device picker."""
