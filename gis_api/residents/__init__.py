"""The residents' channel: my grid and its worker, rating a report, the household survey."""
