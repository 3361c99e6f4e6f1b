"""One router per domain; adding a domain's API is adding a module here."""
