"""The domain services: every change to the library, by database id, one transaction each.

The window (through its undo commands) and the command line (after ``tracker.cli.resolve``
has turned names into ids) call these same functions, so each rule is decided once
(``tracker.core.domain.rules``). A function that changes something returns what was there
before, so that an undo can put it back by calling the services again.
"""
