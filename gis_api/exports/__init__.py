"""Downloads for the command centre: the case list, KPI tables and street ranking as .xlsx or CSV."""
