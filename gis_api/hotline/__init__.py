"""The hotline desk (12345 受理): cases taken on the phone, their callers' contacts, duplicate hints."""
