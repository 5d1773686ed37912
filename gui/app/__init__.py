"""The application shell: the main window composing the views, the session (files), the actions and shortcuts,
dialogs, start-up and the command line entry."""
