"""The Qt workstation: main window, viewers, tools, panels and undo commands.

The only layer that imports PySide6 (docs/architecture.md). Document state changes
only through undo commands on :class:`~recist_app.ui.document.ReadingDocument`; every
panel refreshes from its ``reading_changed`` signal.
"""
