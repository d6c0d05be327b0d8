"""FastAPI application: one router per capability; no business logic here."""
