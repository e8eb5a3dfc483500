"""Team members for the command centre and the field app: availability and the initial team layer."""
