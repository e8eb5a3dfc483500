"""Cases (案卷): categories, workflow, working calendar, deadlines, dispatch and escalation."""
