"""Qt widgets: thin views over the core. Nothing in tracker.core may import from here."""
