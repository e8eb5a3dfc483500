"""One search box: case numbers, road, building, street, community and grid names or codes."""
